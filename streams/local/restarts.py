"""When ``kawal up`` stops restarting a crashed worker or sink: a crash loop, not a crash.

A worker or sink exits 1 on a failure outside any one record (a broker or store error), to be
restarted from its last commit. Over months a hub may see a few such exits; only many in a
short time mean a restart cannot help (as systemd's ``StartLimitBurst`` in
``StartLimitIntervalSec``).

Restarts come after a growing delay (:func:`restart_delay`): the first at once, as a single
crash deserves, then 5, 10, 20 and 40 s. The allowance then lasts over a minute and a half of
waiting plus the processes' own starts, long enough for a cause that clears by itself (a disk
freed, a broker back) to clear before the hub gives up, where immediate restarts used it up in
about 20 s.
"""

from __future__ import annotations

import signal
import sys
import time
from collections import deque
from collections.abc import Callable

from streams.local.processes import ChildFailedError, ChildProcess

#: Restarts of one process within :data:`WINDOW_SECONDS` before the supervisor gives up.
RESTART_LIMIT = 5
WINDOW_SECONDS = 600.0
#: Seconds before the second restart within the window; each later one waits twice as long.
FIRST_DELAY_SECONDS = 5.0
#: The longest wait before a restart, in seconds.
MAX_DELAY_SECONDS = 60.0


def restart_delay(restart: int) -> float:
    """Seconds to wait before the ``restart``-th restart of a process within the window.

    Example:
        >>> [restart_delay(n) for n in range(1, 7)]
        [0.0, 5.0, 10.0, 20.0, 40.0, 60.0]
    """
    if restart <= 1:
        return 0.0
    return min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * float(2 ** (restart - 2)))


def how_it_exited(returncode: int | None) -> str:
    """How a child ended, in a few words: a signal by its number and name.

    Example:
        >>> how_it_exited(1)
        'exited with code 1'
        >>> how_it_exited(-9)
        'killed by signal 9 (SIGKILL)'
    """
    if returncode is None or returncode >= 0:
        return f"exited with code {returncode}"
    number = -returncode
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = "unknown"
    return f"killed by signal {number} ({name})"


def how_it_ended(returncode: int | None) -> str:
    """How a child last ended, in words: a signal leaves no line in the child's own log.

    Example:
        >>> how_it_ended(1)
        'it last exited with code 1'
        >>> how_it_ended(-15)
        'it was last killed by signal 15 (SIGTERM)'
    """
    if returncode is None or returncode >= 0:
        return f"it last {how_it_exited(returncode)}"
    said = f"it was last {how_it_exited(returncode)}"
    if -returncode == signal.SIGKILL:
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


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Restarts:
    """Restarts the crashed children of ``kawal up``, each after its delay, within a budget."""

    def __init__(
        self,
        budget: RestartBudget | None = None,
        clock: Callable[[], float] = time.monotonic,
        say: Callable[[str], None] = _say,
    ) -> None:
        """Count restarts in ``budget``, time their delays by ``clock``, tell them by ``say``."""
        self.budget = budget or RestartBudget(clock=clock)
        self._clock = clock
        self._say = say
        #: When each child waiting for its restart is due to start again.
        self._due: dict[str, float] = {}

    def tend(self, child: ChildProcess) -> None:
        """Restart ``child`` if it has exited and its delay has passed; say when it will.

        Called every second or so: the wait never holds up the supervisor's other duties.

        Raises:
            ChildFailedError: ``child`` crashed more often than the budget allows.
        """
        if child.alive:
            return
        due = self._due.get(child.name)
        if due is None:
            due = self._due[child.name] = self._clock() + self._spend(child)
        if self._clock() >= due:
            del self._due[child.name]
            child.start()

    def _spend(self, child: ChildProcess) -> float:
        """Count a restart of ``child``, say it, and return its delay in seconds."""
        budget, name = self.budget, child.name
        if not budget.spend(name):
            minutes = budget.window_seconds / 60
            raise ChildFailedError(
                f"the {name} crashed {budget.recent(name)} times within {minutes:.0f} minutes "
                f"and {how_it_ended(child.returncode)}; the hub stops with it; see "
                f"{child.log_path}",
                returncode=child.returncode,
                log_tail=child.log_tail(),
            )
        restart = budget.recent(name)
        delay = restart_delay(restart)
        when = "now" if delay == 0 else f"in {delay:.0f} s"
        self._say(
            f"kawal: {name} {how_it_exited(child.returncode)}; restarting {when}, "
            f"restart {restart} of {budget.limit}"
        )
        return delay
