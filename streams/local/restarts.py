"""When ``kawal up`` stops restarting a crashed worker or sink: a crash loop, not a crash.

A worker or sink exits 1 on a failure outside any one record (a broker or store error), to be
restarted from its last commit. Over months a hub may see a few such exits; only many in a
short time mean a restart cannot help (as systemd's ``StartLimitBurst`` in
``StartLimitIntervalSec``).
"""

from __future__ import annotations

import signal
import time
from collections import deque
from collections.abc import Callable

#: Restarts of one process within :data:`WINDOW_SECONDS` before the supervisor gives up.
RESTART_LIMIT = 5
WINDOW_SECONDS = 600.0


def how_it_ended(returncode: int | None) -> str:
    """How a child last ended, in words: a signal leaves no line in the child's own log.

    Example:
        >>> how_it_ended(1)
        'it last exited with code 1'
        >>> how_it_ended(-15)
        'it was last killed by signal 15 (SIGTERM)'
    """
    if returncode is None or returncode >= 0:
        return f"it last exited with code {returncode}"
    number = -returncode
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = "unknown"
    said = f"it was last killed by signal {number} ({name})"
    if number == signal.SIGKILL:
        said += (
            ", which leaves nothing in its log: the kernel's out-of-memory killer sends it "
            "(check `dmesg` or `journalctl -k`), or someone ran kill -9"
        )
    return said


class RestartBudget:
    """The restarts each process had lately, and whether it may have one more."""

    def __init__(
        self,
        limit: int = RESTART_LIMIT,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """At most ``limit`` restarts of a process within ``window_seconds`` of ``clock``."""
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._restarts: dict[str, deque[float]] = {}

    def spend(self, name: str) -> bool:
        """Count a restart of ``name`` now; False once it is past the limit in the window."""
        now = self._clock()
        recent = self._restarts.setdefault(name, deque())
        while recent and now - recent[0] > self.window_seconds:
            recent.popleft()
        recent.append(now)
        return len(recent) <= self.limit

    def recent(self, name: str) -> int:
        """Restarts of ``name`` counted within the window, as of the last :meth:`spend`."""
        return len(self._restarts.get(name, ()))
