"""The counts of the wider selections a filtered dashboard is part of: bounds of its counts.

Every filter narrows: the dashboard of ``?region=33&election=pilkada-2024`` counts some of the
cases of ``?region=33`` and of ``?election=pilkada-2024``, and ``?region=3374`` some of those of
``?region=33``. Each of those dashboards is public, so each of its counts is an upper bound of
the same count here (:mod:`streams.audit.bounds`). Dropping one filter at a time (or narrowing a
regency to its province) gives the tightest of them: a wider selection still holds these.
"""

from __future__ import annotations

import dataclasses

from streams.audit.figures.counts import COUNTS, counts
from streams.audit.figures.facts import CaseFacts
from streams.audit.figures.filters import Filters, reported_cases


def wider_filters(filters: Filters) -> list[Filters]:
    """The selections holding the cases of ``filters``, each one step wider."""
    found: list[Filters] = []
    for field in ("election", "region", "agency"):
        if getattr(filters, field) is not None:
            found.append(dataclasses.replace(filters, **{field: None}))
    if filters.date_from is not None:
        found.append(dataclasses.replace(filters, date_from=None))
    if filters.date_to is not None:
        found.append(dataclasses.replace(filters, date_to=None))
    if filters.region is not None and len(filters.region) > 2:
        found.append(dataclasses.replace(filters, region=filters.region[:2]))
    return found


def ceilings(
    cases: list[CaseFacts],
    filters: Filters,
    memo: dict[Filters, dict[str, int]] | None = None,
) -> dict[str, int]:
    """Each count of :data:`COUNTS` -> the least of it over the selections wider than ``filters``.

    Taken as published even where a wider dashboard withholds it: assuming a reader knows more
    only withholds more here.

    Args:
        cases: every case of the read.
        filters: the dashboard's filters.
        memo: the counts of selections computed already (the front page's rows share them).
    """
    known = {} if memo is None else memo
    found: dict[str, int] = {}
    for wider in wider_filters(filters):
        if wider not in known:
            known[wider] = counts(reported_cases(cases, wider))
        for column in COUNTS:
            value = known[wider][column]
            found[column] = min(found.get(column, value), value)
    return found
