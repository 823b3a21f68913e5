"""Every figure of the neutrality dashboard at once, as ``kawal stats`` and the page show them.

A projection of the trail: :func:`streams.audit.figures.facts.read_facts` reads the non-personal
fields of the audit store's entries, the filters choose the cases, and each figure is computed
by its own module. The result holds counts and institution ids only: never a case id, a name,
a NIP or a reporter.
"""

from __future__ import annotations

from typing import Any

from schemas.codec import AvroCodec
from streams.audit.figures.agencies import catatan_merah, follow_up_rate, violation_ratio
from streams.audit.figures.counts import counts
from streams.audit.figures.definitions import column_definitions, figure_definitions
from streams.audit.figures.facts import Projection, read_facts
from streams.audit.figures.filters import Filters, reported_cases
from streams.audit.figures.handling import handling_times
from streams.audit.figures.metadata import software
from streams.audit.figures.public_views import dashboard_seeds
from streams.audit.figures.small_groups import protect_figures, suppression
from streams.audit.figures.wider import ceilings
from streams.audit.store import AuditStore
from streams.domain.calendar import WorkingCalendar
from streams.domain.headcounts import Headcount


def dashboard_view(
    store: AuditStore,
    codec: AvroCodec,
    calendar: WorkingCalendar,
    headcounts: dict[str, Headcount],
    filters: Filters,
    *,
    min_cases: int,
) -> dict[str, Any]:
    """The dashboard's figures for the cases ``filters`` choose, none from fewer than K cases.

    Raises:
        StoreError: the store cannot be read.
    """
    return figures(read_facts(store, codec), calendar, headcounts, filters, min_cases=min_cases)


def figures(
    projection: Projection,
    calendar: WorkingCalendar,
    headcounts: dict[str, Headcount],
    filters: Filters,
    *,
    min_cases: int,
) -> dict[str, Any]:
    """The figures of an already read projection (see :func:`dashboard_view`).

    Args:
        projection: every case's facts.
        calendar: the working days.
        headcounts: civil servants per agency.
        filters: which cases to count.
        min_cases: K: no value is published from fewer cases
            (:mod:`streams.audit.figures.small_groups`), nor what the front page withholds of
            the same cases (:mod:`streams.audit.figures.public_views`).

    Returns:
        A JSON-ready dict: ``filters``, ``generated_at``, ``skipped_entries``, one key per
        figure of :data:`~streams.audit.figures.definitions.FIGURES`, ``suppression`` (K and
        the reason for a withheld value), ``definitions`` (each figure's), ``columns`` (what
        each column of the tables and exports holds) and ``software`` (the name and version
        that made them).
    """
    chosen = reported_cases(projection.cases, filters)
    computed = {
        "counts": counts(chosen),
        "handling_times": handling_times(chosen, calendar),
        "violation_ratio": violation_ratio(chosen, headcounts),
        "follow_up": follow_up_rate(chosen),
        "catatan_merah": catatan_merah(projection.cases, filters),
    }
    return {
        "filters": filters.as_dict(),
        "generated_at": projection.read_at.isoformat(),
        "skipped_entries": projection.skipped_entries,
        **protect_figures(
            computed,
            filters,
            min_cases,
            dashboard_seeds(projection, chosen, filters, min_cases),
            ceilings(projection.cases, filters),
        ),
        "suppression": suppression(min_cases),
        "definitions": figure_definitions(),
        "columns": column_definitions(),
        "software": software(),
    }
