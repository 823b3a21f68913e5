"""``kawal up`` restarts a crashed worker or sink until it crash-loops, however long it runs."""

from __future__ import annotations

from streams.local.restarts import RestartBudget, how_it_ended
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
