"""The case census: one paced look at every case, for ops and the deadline timer.

Ops' case figures (``kawal_cases``, ``kawal_deadline_clocks``, ``kawal_recommendations``,
``kawal_deadline_overdue_seconds``) and the clocks the deadline timer reports come from one
look at every case the worker holds, taken every ``KAWAL_DEADLINE_CHECK_SECONDS`` and paced
(:mod:`streams.hub.case_scan`), not at each scrape: at 100,000 cases a look costs seconds that
a scrape every 15 seconds would take from the pipeline. A scrape reads the last census;
``kawal_case_census_timestamp_seconds`` says when it began. Only a case's lifecycle is read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from streams.domain.case_counts import CaseCounts, CaseTally
from streams.domain.deadlines import HISTORY_GRACE, DeadlineRule, unreported
from streams.domain.lifecycle import CaseLifecycle
from streams.hub.case_scan import Pacing, each_case
from streams.hub.case_table import lifecycle_of
from streams.hub.overdue_clocks import OverdueClocks


@dataclass(frozen=True)
class DueClock:
    """A clock that ran out and whose breach the hub has not recorded yet."""

    case_id: str
    case: CaseLifecycle
    clock: dict[str, Any]


@dataclass(frozen=True)
class Census:
    """What one look at every case found."""

    counts: CaseCounts
    #: The clocks the deadline timer is to report.
    due: list[DueClock]
    #: When the look began.
    taken_at: datetime
    #: How long it took, in seconds.
    seconds: float


class CaseCensus:
    """Takes the census of a case table when its pace allows, and keeps the last one."""

    def __init__(
        self,
        table: Any,
        rules: Mapping[str, DeadlineRule],
        now: Callable[[], datetime] | None = None,
        pacing: Pacing | None = None,
        history_grace: timedelta = HISTORY_GRACE,
    ) -> None:
        """Count the cases of ``table`` (a Faust table) against the configured ``rules``.

        ``history_grace``: how long a clock that ran out before the hub recorded its start is
        left before the timer reports it (``KAWAL_HISTORY_GRACE_SECONDS``).
        """
        self._table = table
        self._rules = rules
        self._history_grace = history_grace
        self._now = now or (lambda: datetime.now(UTC))
        self._pacing = pacing or Pacing()
        self._overdue = OverdueClocks(rules)
        #: The last census, None before the first.
        self.latest: Census | None = None

    async def take(self) -> Census | None:
        """A new census, or None while the last one's pace says to wait."""
        if not self._pacing.due():
            return None
        now = self._now()
        started = time.monotonic()
        with self._pacing.timing():
            tally = CaseTally(self._rules, now)
            due: list[DueClock] = []
            async for case_id, value in each_case(self._table):
                case = lifecycle_of(value)
                if case is None:
                    continue
                tally.add(case)
                due.extend(
                    DueClock(case_id, case, clock)
                    for clock in unreported(case, now, self._history_grace)
                )
        self._overdue.saw(
            ((d.case_id, str(d.clock["rule_id"]), str(d.clock["caused_by"])) for d in due), now
        )
        self.latest = Census(tally.counts(), due, now, time.monotonic() - started)
        return self.latest

    def counts(self) -> CaseCounts | None:
        """The counts of the last census, None before the first."""
        return self.latest.counts if self.latest else None

    def ages(self) -> dict[str, float]:
        """Seconds each rule's longest overdue clock had been overdue at the last census."""
        return self._overdue.ages() if self.latest else {}

    def taken(self) -> tuple[float, float] | None:
        """When the last census began (Unix seconds) and how long it took, None before one."""
        if self.latest is None:
            return None
        return self.latest.taken_at.timestamp(), self.latest.seconds
