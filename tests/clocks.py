"""A clock for code that takes one (``clock=``): it stands still until the test moves it."""

from __future__ import annotations

from typing import Generic, TypeVar

#: What the clock tells: monotonic seconds (float) or a wall-clock datetime.
Moment = TypeVar("Moment")


class ManualClock(Generic[Moment]):
    """The test's time: ``now`` until the test sets another."""

    def __init__(self, start: Moment) -> None:
        """Start at ``start``."""
        self.now = start

    def __call__(self) -> Moment:
        """The current moment, as the code under test asks for it."""
        return self.now
