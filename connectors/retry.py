"""Retries with exponential backoff for calls into an institution's system."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from connectors.errors import TransientError

T = TypeVar("T")


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


@dataclass(frozen=True)
class GaveUp:
    """A call that still failed after every retry."""

    attempts: int
    last_error: TransientError


def with_retries(
    call: Callable[[], T],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
) -> T | GaveUp:
    """``call()``, retried on :class:`TransientError`; a :class:`GaveUp` once tries run out."""
    last: TransientError | None = None
    for delay in [*policy.delays(), None]:
        try:
            return call()
        except TransientError as exc:
            last = exc
            if delay is not None:
                sleep(delay)
    assert last is not None
    return GaveUp(policy.attempts, last)
