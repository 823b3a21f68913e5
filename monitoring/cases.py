"""Case series: deadline clocks, recommendation follow-up, phases and the calendar's reach.

Counted from the worker's case table at scrape time (``streams.hub.case_figures``); the
collector only turns the counts into series. Every label is a closed vocabulary: a deadline
rule id, the responsible ``InstitutionRole`` symbol, a clock or follow-up state, a phase.
Several workers each count the partitions they hold: sum over ``instance``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Protocol

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class CaseCountsLike(Protocol):
    """What a count of the cases holds (``streams.domain.case_counts.CaseCounts``)."""

    @property
    def clocks(self) -> Mapping[tuple[str, str, str], int]:
        """Clocks by (rule id, responsible role, state)."""

    @property
    def recommendations(self) -> Mapping[str, int]:
        """Cases by recommendation follow-up state."""

    @property
    def phases(self) -> Mapping[str, int]:
        """Cases by phase."""


class CaseCollector(Collector):
    """``kawal_deadline_clocks``, ``kawal_recommendations``, ``kawal_cases`` and the calendar."""

    def __init__(
        self, counts: Callable[[], CaseCountsLike], calendar_year: Callable[[], int]
    ) -> None:
        """Export ``counts()`` and ``calendar_year()`` (last year with holiday data) per scrape."""
        self._counts = counts
        self._calendar_year = calendar_year

    def collect(self) -> Iterator[Metric]:
        """The series of the cases as they are now."""
        counts = self._counts()
        clocks = GaugeMetricFamily(
            "kawal_deadline_clocks",
            "Deadline clocks of the cases this worker holds, by rule, the role that answers for "
            "it and state (running; overdue: due, breach not yet recorded; breached: breach "
            "recorded, the step still not taken; provisional: counted without holiday data; "
            "untracked: rule no longer configured).",
            labels=["rule", "responsible", "state"],
        )
        for (rule, role, state), n in sorted(counts.clocks.items()):
            clocks.add_metric([rule, role, state], n)
        yield clocks
        recommendations = GaugeMetricFamily(
            "kawal_recommendations",
            "Cases with a proven recommendation, by follow-up state (pending, overdue_unblocked, "
            "overdue_blocked, followed_up); closed cases are not counted.",
            labels=["state"],
        )
        for state, n in sorted(counts.recommendations.items()):
            recommendations.add_metric([state], n)
        yield recommendations
        phases = GaugeMetricFamily(
            "kawal_cases", "Cases this worker holds, by phase.", labels=["phase"]
        )
        for phase, n in sorted(counts.phases.items()):
            phases.add_metric([phase], n)
        yield phases
        yield GaugeMetricFamily(
            "kawal_calendar_last_covered_year",
            "Last year of the unbroken run of years, from this one, with holiday data; clocks "
            "running past it get provisional due dates.",
            value=self._calendar_year(),
        )
