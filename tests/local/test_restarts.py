"""``kawal up`` restarts a crashed worker or sink until it crash-loops, however long it runs."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import pytest

from streams.local.processes import ChildFailedError, ChildProcess
from streams.local.restarts import (
    MAX_DELAY_SECONDS,
    RESTART_LIMIT,
    WINDOW_SECONDS,
    RestartBudget,
    Restarts,
    how_it_ended,
    how_it_exited,
    restart_delay,
)
from tests.clocks import ManualClock

#: Where the test's monotonic time starts, in seconds.
START = 1_000.0


def test_the_restart_past_the_limit_within_the_window_is_refused() -> None:
    clock = ManualClock(START)
    budget = RestartBudget(limit=5, window_seconds=600, clock=clock)
    for _ in range(5):
        assert budget.spend("worker")
        clock.now += 60
    assert not budget.spend("worker")
    assert budget.recent("worker") == 6
    assert budget.spend("sink")  # each process has its own budget


def test_restarts_older_than_the_window_no_longer_count() -> None:
    clock = ManualClock(START)
    budget = RestartBudget(limit=5, window_seconds=600, clock=clock)
    for _ in range(50):  # a crash every eleven minutes, for nine hours
        assert budget.spend("worker")
        clock.now += 660
    assert budget.recent("worker") == 1
    for _ in range(5):  # then a crash loop: five restarts, then no more
        assert budget.spend("worker")
        clock.now += 10
    assert not budget.spend("worker")


def test_how_a_process_ended_is_said_and_a_kill_9_points_at_the_oom_killer() -> None:
    # A SIGKILL leaves the process's own log ending on an ordinary line: before, the crash-loop
    # message named only that log.
    assert how_it_ended(1) == "it last exited with code 1"
    killed = how_it_ended(-9)
    assert killed.startswith("it was last killed by signal 9 (SIGKILL), which leaves nothing")
    assert "out-of-memory killer" in killed
    assert how_it_ended(-6) == "it was last killed by signal 6 (SIGABRT)"
    assert how_it_ended(-200) == "it was last killed by signal 200 (unknown)"


def exited_child(tmp_path: Path, code: str) -> ChildProcess:
    """A real child running ``python -c CODE``, started and waited for until it has exited."""
    child = ChildProcess("worker", [sys.executable, "-c", code], tmp_path / "worker.log")
    child.start()
    wait_exit(child)
    return child


def wait_exit(child: ChildProcess) -> None:
    deadline = time.monotonic() + 30
    while child.alive:
        assert time.monotonic() < deadline, "the child did not exit"
        time.sleep(0.02)


def test_restarts_wait_longer_each_time_and_the_first_is_at_once(tmp_path: Path) -> None:
    # Before, every restart came at once: five were used up in about 20 s, before a cause that
    # clears within a minute (a disk freed, a broker back) could clear.
    clock = ManualClock(START)
    lines: list[str] = []
    restarts = Restarts(RestartBudget(clock=clock), clock=clock, say=lines.append)
    child = exited_child(tmp_path, "raise SystemExit(3)")
    waited: list[float] = []

    for restart in range(1, RESTART_LIMIT + 1):
        first_pid = child.pid
        restarts.tend(child)
        start = clock.now
        while child.pid == first_pid:  # not restarted yet: the supervisor looks every second
            clock.now += 1
            restarts.tend(child)
            assert clock.now - start <= MAX_DELAY_SECONDS + 1
        waited.append(clock.now - start)
        assert lines[-1] == (
            f"kawal: worker exited with code 3; restarting "
            f"{'now' if restart == 1 else f'in {restart_delay(restart):.0f} s'}, "
            f"restart {restart} of {RESTART_LIMIT}"
        )
        wait_exit(child)

    # The first restart at the very look that found the exit, as before; then 5, 10, 20, 40 s.
    assert waited == [0.0, 5.0, 10.0, 20.0, 40.0]
    assert len(lines) == RESTART_LIMIT  # one line a restart, not one a look
    with pytest.raises(ChildFailedError, match="the worker crashed 6 times within 10 minutes"):
        restarts.tend(child)


def test_a_child_killed_by_a_signal_is_said_so_by_name(tmp_path: Path) -> None:
    lines: list[str] = []
    restarts = Restarts(say=lines.append)
    child = exited_child(tmp_path, "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")

    restarts.tend(child)

    assert lines == ["kawal: worker killed by signal 9 (SIGKILL); restarting now, restart 1 of 5"]
    assert child.alive or child.returncode == -signal.SIGKILL  # started again
    child.stop()


def test_a_crash_long_after_the_last_is_restarted_at_once_again(tmp_path: Path) -> None:
    clock = ManualClock(START)
    lines: list[str] = []
    restarts = Restarts(RestartBudget(clock=clock), clock=clock, say=lines.append)
    child = exited_child(tmp_path, "raise SystemExit(1)")
    for _ in range(3):
        restarts.tend(child)
        wait_exit(child)
        clock.now += WINDOW_SECONDS + 1  # the window forgets the earlier crash

    assert all(line.endswith("restarting now, restart 1 of 5") for line in lines)
    assert len(lines) == 3


def test_the_delays_grow_to_a_cap() -> None:
    assert [restart_delay(n) for n in range(1, 9)] == [0, 5, 10, 20, 40, 60, 60, 60]
    assert how_it_exited(1) == "exited with code 1"
    assert how_it_exited(-15) == "killed by signal 15 (SIGTERM)"
