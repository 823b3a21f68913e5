"""Case series: deadline clocks, recommendation follow-up, phases and the calendar's reach.

Counted from the worker's case table by its last case census (``streams.hub.case_census``),
which ``kawal_case_census_timestamp_seconds`` dates; the collector only turns the counts into
series, and exports none of them before the first census. Every label is a closed
vocabulary: a deadline rule id, the responsible ``InstitutionRole`` symbol, a clock or
follow-up state, a phase.
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
        self,
        counts: Callable[[], CaseCountsLike | None],
        calendar_year: Callable[[], int],
        census: Callable[[], tuple[float, float] | None],
    ) -> None:
        """Export ``counts()``, ``calendar_year()`` (last year with holiday data) and ``census()``.

        ``census()`` is when the last census began (Unix seconds) and how long it took.
        """
        self._counts = counts
        self._calendar_year = calendar_year
        self._census = census

    def collect(self) -> Iterator[Metric]:
        """The series of the cases as the last census found them."""
        yield GaugeMetricFamily(
            "kawal_calendar_last_covered_year",
            "Last year of the unbroken run of years, from this one, with holiday data; clocks "
            "running past it get provisional due dates.",
            value=self._calendar_year(),
        )
        taken = self._census()
        counts = self._counts()
        if taken is None or counts is None:
            return
        began, seconds = taken
        yield GaugeMetricFamily(
            "kawal_case_census_timestamp_seconds",
            "When the worker's last look at every case it holds began (Unix time): the case "
            "series below are as it found them.",
            value=began,
        )
        yield GaugeMetricFamily(
            "kawal_case_census_duration_seconds",
            "How long the worker's last look at every case it holds took.",
            value=seconds,
        )
        yield from self._counted(counts)

    def _counted(self, counts: CaseCountsLike) -> Iterator[Metric]:
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
            "overdue_blocked, followed_up, closed_without_follow_up); a case closed after its "
            "sanction stays followed_up.",
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
