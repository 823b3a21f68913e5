"""Retries with exponential backoff for calls into an institution's system.

Each retry is a WARNING saying what failed and when the next try comes: a system failing
three times in five was otherwise silent until it failed for good.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from connectors.errors import TransientError

T = TypeVar("T")

log = logging.getLogger(__name__)


class RetryPolicy(BaseModel):
    """How often and how patiently to retry a transient failure."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attempts: int = Field(default=5, ge=1, description="Tries before giving up (first included).")
    initial_seconds: float = Field(default=0.5, gt=0, description="Wait after the first failure.")
    max_seconds: float = Field(default=10.0, gt=0, description="Longest wait between tries.")

    def delays(self) -> list[float]:
        """The waits between consecutive tries."""
        waits, delay = [], self.initial_seconds
        for _ in range(self.attempts - 1):
            waits.append(min(delay, self.max_seconds))
            delay *= 2
        return waits

    def hold_seconds(self, passes: int) -> float:
        """The wait before trying again an entry ``passes`` passes in a row gave up on.

        The retries' backoff goes on doubling across passes, capped at ``max_seconds``: an
        outbound connector holding its feed at an entry (:mod:`connectors.feed_holds`) asks
        its system at most every ``max_seconds`` plus a pass's own retries.

        >>> policy = RetryPolicy(attempts=2, initial_seconds=0.5, max_seconds=10.0)
        >>> [policy.hold_seconds(passes) for passes in (1, 2, 3, 5, 500)]
        [1.0, 2.0, 4.0, 10.0, 10.0]
        """
        # Bounded, so that a hold of days does not overflow a float.
        doublings = min(self.attempts - 1 + passes - 1, 64)
        return min(self.initial_seconds * 2.0**doublings, self.max_seconds)


@dataclass(frozen=True)
class GaveUp:
    """A call that still failed after every retry."""

    attempts: int
    last_error: TransientError


def with_retries(
    call: Callable[[], T],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    what: str = "the call",
) -> T | GaveUp:
    """``call()``, retried on :class:`TransientError`; a :class:`GaveUp` once tries run out.

    ``what`` names the call in the retry's log line (a connector and an event id): a
    transient error's text is the connector's own words, never the system's answer.
    """
    last: TransientError | None = None
    for attempt, delay in enumerate([*policy.delays(), None], start=1):
        try:
            return call()
        except TransientError as exc:
            last = exc
            if delay is not None:
                log.warning(
                    "%s failed (%s); try %d of %d in %.1f s",
                    what,
                    exc,
                    attempt + 1,
                    policy.attempts,
                    delay,
                )
                sleep(delay)
    assert last is not None
    return GaveUp(policy.attempts, last)
