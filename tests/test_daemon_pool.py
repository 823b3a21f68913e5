"""A process exits while a :class:`DaemonPool` thread waits on a call that never returns."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from streams.daemon_pool import DaemonPool

#: Longest wait for a Python process to start and exit on a loaded machine, in seconds.
ROOM = 60.0

NEVER_RETURNS = """
import threading
from streams.daemon_pool import DaemonPool

pool = DaemonPool(1, "test")
asked = pool.submit(threading.Event().wait)  # as a query to a frozen database
print("asked", flush=True)
"""


def test_a_process_exits_without_waiting_for_a_call_that_never_returns() -> None:
    # A ThreadPoolExecutor's thread is joined at exit: this process ran until it was killed.
    done = subprocess.run(
        [sys.executable, "-c", NEVER_RETURNS],
        capture_output=True,
        text=True,
        timeout=ROOM,
        check=False,
        cwd=Path(__file__).parent.parent,
    )
    assert (done.returncode, done.stdout) == (0, "asked\n"), done.stderr


def test_calls_are_answered_and_a_queued_call_cancelled_never_runs() -> None:
    pool = DaemonPool(1, "test")
    release = threading.Event()
    ran: list[str] = []
    first = pool.submit(release.wait, ROOM)
    queued = pool.submit(ran.append, "queued")
    assert queued.cancel()
    release.set()
    later = pool.submit(lambda: "answered")
    assert (first.result(ROOM), later.result(ROOM), ran) == (True, "answered", [])
    with_error = pool.submit(int, "not a number")
    assert isinstance(with_error.exception(ROOM), ValueError)
    pool.shutdown()
