"""How long a stop of ``kawal up`` may take, and that it leaves none of its children running."""

from __future__ import annotations

import subprocess
import time

import pytest

from streams.local.supervisor import WORKER_STOP_TIMEOUT_SECONDS
from tests.hubtools import UpProcess, pid_running

#: Room a loaded machine adds to a stop, s, on top of the waits the supervisor gives.
STOP_ROOM_SECONDS = 60.0


def stop_code(up: UpProcess, children: list[int], started: float) -> int:
    """The exit code of ``up``, signalled at ``started``, once it stopped ``children``.

    The supervisor stops its children one after another and kills one that has not stopped
    after WORKER_STOP_TIMEOUT_SECONDS: a stop takes no longer than those waits, whatever the
    machine's load, with room for that load. A supervisor that does not stop, or waits on a
    child for ever, outlasts that by far.
    """
    limit = len(children) * WORKER_STOP_TIMEOUT_SECONDS + STOP_ROOM_SECONDS
    try:
        code = up.process.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {time.monotonic() - started:.0f} s after the signal")
    stopped = time.monotonic() - started
    left = [pid for pid in children if pid_running(pid)]
    assert not left, f"{left} of {children} left running by a stop of {stopped:.0f} s"
    return code
