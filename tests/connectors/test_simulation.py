"""The simulated staff the authority's, the PPK's and the inspectorate's simulators run."""

from __future__ import annotations

import threading
import time

import pytest

from connectors.simulation import SimulatedStaff

#: Longest wait for what takes milliseconds, s: a guard against a hang, room for a loaded machine.
HANG_GUARD_SECONDS = 60.0


def _until(condition: threading.Event, seconds: float = HANG_GUARD_SECONDS) -> None:
    assert condition.wait(seconds), f"not within {seconds} s"


def test_staff_work_in_rounds_until_stopped() -> None:
    rounds: list[float] = []
    third = threading.Event()

    def work() -> None:
        rounds.append(time.monotonic())
        if len(rounds) == 3:
            third.set()

    staff = SimulatedStaff("test-staff", work, (OSError,))
    staff.start(0.01)
    _until(third)
    staff.stop()
    done = len(rounds)
    time.sleep(0.05)
    assert len(rounds) == done
    assert not [t for t in threading.enumerate() if t.name == "test-staff"]


def test_a_round_that_finds_the_system_down_is_tried_again() -> None:
    attempts: list[int] = []
    recovered = threading.Event()

    def work() -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise OSError("share unmounted")
        recovered.set()

    staff = SimulatedStaff("test-staff", work, (OSError,))
    staff.start(0.01)
    _until(recovered)
    staff.stop()
    assert len(attempts) >= 3


def test_starting_twice_is_refused_and_a_stopped_staff_starts_again() -> None:
    ran = threading.Event()
    staff = SimulatedStaff("test-staff", ran.set, (OSError,))
    staff.start(0.01)
    with pytest.raises(RuntimeError, match="already running"):
        staff.start(0.01)
    staff.stop()
    ran.clear()
    staff.start(0.01)
    _until(ran)
    staff.stop()


def test_stopping_ends_a_pause_inside_a_round() -> None:
    pausing = threading.Event()
    paused = threading.Event()
    staff: SimulatedStaff

    def work() -> None:
        pausing.set()
        staff.pause(3600.0)
        paused.set()

    staff = SimulatedStaff("test-staff", work, (OSError,))
    staff.start(0.01)
    _until(pausing)
    # The pause alone would last an hour: the stop's wait is a guard against a hang only.
    staff.stop(timeout_seconds=HANG_GUARD_SECONDS)
    assert paused.is_set()
    assert not [t for t in threading.enumerate() if t.name == "test-staff"]
