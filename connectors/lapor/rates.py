"""How many reports and page requests one source may send: moving windows, in memory.

Three counts per source address. ``attempt`` counts every report posted, kept or refused,
so a flood is refused before its body is read. ``report`` counts reports the portal kept: a
post refused for what it holds (a missing field, a file too large) is not one, so a reporter
correcting the form is not locked out for the day, nor are the many reporters behind one
carrier's address by each other's mistakes. ``track`` counts tracking pages and streams.
"""

from __future__ import annotations

import math
import time
from typing import Literal

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

#: What a source does that a limit counts.
Action = Literal["attempt", "report", "track"]


class RateLimits:
    """Moving-window limits per source and :data:`Action`.

    Args:
        report: limits of reports kept per source, e.g. ``"5/minute;30/day"``.
        track: limits of tracking-page and stream requests per source.
        attempt: limits of report posts per source, kept or refused.
    """

    def __init__(self, report: str, track: str, attempt: str) -> None:
        self._limits: dict[Action, list[RateLimitItem]] = {
            "attempt": parse_many(attempt),
            "report": parse_many(report),
            "track": parse_many(track),
        }
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def allow(self, action: Action, source: str) -> bool:
        """Count one ``action`` by ``source``; whether it stays within every limit."""
        return all(self._limiter.hit(item, action, source) for item in self._limits[action])

    def spent(self, action: Action, source: str) -> bool:
        """Whether one more ``action`` by ``source`` would go over a limit (not counted)."""
        return not all(self._limiter.test(item, action, source) for item in self._limits[action])

    def retry_after(self, action: Action, source: str) -> int:
        """Seconds until ``source`` may ``action`` again: until every spent limit has room.

        A day's limit spent is a wait of hours, not of the minute a per-minute one asks.
        """
        waits = [
            stats.reset_time - time.time()
            for item in self._limits[action]
            if (stats := self._limiter.get_window_stats(item, action, source)).remaining == 0
        ]
        return max(1, math.ceil(max(waits, default=1)))
