"""How long clocks stay overdue: the deadline timer's delay, for ``kawal_deadline_overdue_seconds``.

A clock is overdue from when it runs out until the hub records its DeadlineBreached, which
the deadline timer publishes after the census that finds it (:mod:`streams.hub.case_census`).
A report sent late starts clocks that ran out before the hub knew of them, so a clock's time
overdue counts from when this worker's census first found it overdue, not from its due date:
a steady trickle of late reports keeps some clock overdue at every moment, each only briefly,
while a timer that stopped leaves one overdue for ever. A restarted worker, or one newly given
a case's partition, has seen nothing of it yet: a timer broken across a restart shows from
then on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from streams.domain.deadlines import DeadlineRule

#: A clock: its case, its rule and the event that started it.
ClockKey = tuple[str, str, str]


class OverdueClocks:
    """The clocks each census found overdue, and since when."""

    def __init__(self, rules: Mapping[str, DeadlineRule]) -> None:
        """Follow the clocks of the configured ``rules``.

        A clock of a rule no longer configured is left out: no timer breaches it
        (``kawal_deadline_clocks{state="untracked"}``).
        """
        self._rules = rules
        self._seen: dict[ClockKey, datetime] = {}
        self._ages = dict.fromkeys(rules, 0.0)

    def saw(self, overdue: Iterable[ClockKey], now: datetime) -> None:
        """Take the clocks a census found overdue at ``now``; forget those no longer overdue."""
        ages = dict.fromkeys(self._rules, 0.0)
        seen: dict[ClockKey, datetime] = {}
        for key in overdue:
            if key[1] not in self._rules:
                continue
            since = seen[key] = self._seen.get(key, now)
            ages[key[1]] = max(ages[key[1]], (now - since).total_seconds())
        self._seen = seen
        self._ages = ages

    def ages(self) -> dict[str, float]:
        """Seconds each rule's longest overdue clock had been overdue at the last census."""
        return dict(self._ages)
