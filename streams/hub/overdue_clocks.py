"""How long clocks stay overdue: the deadline timer's delay, for ``kawal_deadline_overdue_seconds``.

A clock is overdue from when it runs out until the hub records its DeadlineBreached, which
the deadline timer publishes within seconds. A report sent late starts clocks that ran out
before the hub knew of them, so a clock's time overdue counts from when this worker first saw
it overdue, not from its due date: a steady trickle of late reports keeps some clock overdue
at every moment, each only briefly, while a timer that stopped leaves one overdue for ever.
A restarted worker, or one newly given a case's partition, has seen nothing of it yet: a
timer broken across a restart shows from then on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from streams.domain.deadlines import DeadlineRule, unreported
from streams.hub.case_store import iter_cases
from streams.hub.case_table import lifecycle_of

#: A clock: its case, its rule and the event that started it.
ClockKey = tuple[str, str, str]


class OverdueClocks:
    """The clocks of a case table seen overdue, and since when (read at each scrape)."""

    def __init__(
        self,
        table: Any,
        rules: Mapping[str, DeadlineRule],
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """Watch the clocks of ``table`` (a Faust table) of the configured ``rules``.

        A clock of a rule no longer configured is left out: no timer breaches it
        (``kawal_deadline_clocks{state="untracked"}``).
        """
        self._table = table
        self._rules = rules
        self._now = now or (lambda: datetime.now(UTC))
        self._seen: dict[ClockKey, datetime] = {}

    def ages(self) -> dict[str, float]:
        """Seconds each rule's longest overdue clock has been seen overdue; 0 with none."""
        now = self._now()
        ages = dict.fromkeys(self._rules, 0.0)
        seen: dict[ClockKey, datetime] = {}
        for key in self._overdue(now):
            # A clock breached or stopped since drops out, and is forgotten here.
            since = seen[key] = self._seen.get(key, now)
            ages[key[1]] = max(ages[key[1]], (now - since).total_seconds())
        self._seen = seen
        return ages

    def _overdue(self, now: datetime) -> list[ClockKey]:
        found = []
        for case_id, value in iter_cases(self._table):
            if not value["lifecycle"]["clocks"]:
                continue  # most cases run no clock: skip them without building their lifecycle
            case = lifecycle_of(value)
            for clock in unreported(case, now) if case is not None else []:
                if clock["rule_id"] in self._rules:
                    found.append((case_id, str(clock["rule_id"]), str(clock["caused_by"])))
        return found
