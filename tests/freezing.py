"""Freezing a process (SIGSTOP), as a hung disk or an overloaded host would, and knowing it is.

``kill(SIGSTOP)`` returns before the process has stopped: the kernel wakes one of its threads to
take the stop, and on a loaded machine that thread may wait for a core while another thread,
already running, still answers requests. A broker "frozen" so had acknowledged records sent
after the kill (the publisher's close then succeeded where the test expected a refusal). A
freeze here returns only once every thread of the process shows stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: How long a stop may take to reach every thread before the freeze fails.
STOP_SECONDS = 10.0


@contextmanager
def frozen(*pids: int) -> Iterator[None]:
    """The processes stopped for the ``with``, every thread of each; then resumed."""
    try:
        for pid in pids:
            freeze(pid)
        yield
    finally:
        for pid in pids:
            thaw(pid)


def freeze(pid: int) -> None:
    """Stop ``pid`` and wait until every thread of it is stopped (one that is gone needs not).

    Raises:
        AssertionError: a thread still ran after :data:`STOP_SECONDS`.
    """
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + STOP_SECONDS
    while not _stopped(pid):
        assert time.monotonic() < deadline, f"process {pid} did not stop in {STOP_SECONDS:g} s"
        time.sleep(0.005)


def thaw(pid: int) -> None:
    """Resume ``pid`` (one that ended meanwhile needs nothing)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGCONT)


def _stopped(pid: int) -> bool:
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:  # the process ended (a backend closing its connection)
        return True
    return all(_state(task) in "TtZX" for task in tasks)  # Z, X: it ended


def _state(task: Path) -> str:
    """The one-letter state of a thread in ``/proc`` (after the name in parentheses)."""
    try:
        return (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:  # the thread ended meanwhile
        return "T"
