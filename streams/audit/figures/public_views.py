"""The front page's statistics and the dashboard withhold alike what they count of the same cases.

Both views apply the suppression rule (:mod:`streams.audit.suppression`) to their own tables:
the front page (:mod:`streams.audit.stats`, and ``kawal stats`` without a filter) its totals
and its rows per election, region and agency; the dashboard
(:mod:`streams.audit.figures.small_groups`) its figures. Where both publish the count of the
same cases, a value one withholds would be given away by the other: the front page's
recommended and followed up of an agency are the dashboard's follow-up row of that PPK, and a
PPK the secondary rule withholds on the dashboard would be the front page's total less the
agencies it shows. So the two are protected together, without a filter, until neither
withholds more (the columns of :data:`SAME_COUNTS`):

- the front page's totals and the dashboard's ``counts``;
- an agency's row of the front page and its rows of the violation ratio, the follow-up rate
  and "catatan merah" (proven, without a date range).

A dashboard with filters gets what the front page withholds of the same cases (its counts of
the cases of one agency, an agency's rows of an election that has no other): a row counts the
same cases as another when they are the same set. Computed once per read of the store.
"""

from __future__ import annotations

import copy
import functools
from collections import defaultdict
from typing import Any

from streams.audit.figures.agencies import catatan_merah, follow_up_rate, violation_ratio
from streams.audit.figures.counts import counts
from streams.audit.figures.facts import CaseFacts, Projection
from streams.audit.figures.filters import Filters
from streams.audit.figures.small_groups import protect_figures
from streams.audit.stats import Held, stats_and_withheld
from streams.audit.suppression import withheld

#: Dashboard figure -> front page column -> the dashboard's column counting the same cases.
SAME_COUNTS: dict[str, dict[str, str]] = {
    "counts": {
        "reported": "received",
        "proven": "proven",
        "recommended": "recommended",
        "followed_up": "followed_up",
        "sanctioned": "sanctioned",
    },
    "violation_ratio": {"reported": "reported", "proven": "proven"},
    "follow_up": {"recommended": "recommended", "followed_up": "followed_up"},
    "catatan_merah": {"proven": "proven"},
}

#: ``(figure, agency)`` (agency ``""`` for ``counts``) -> the dashboard's columns to withhold.
Seeds = dict[tuple[str, str], set[str]]


def front_page_stats(projection: Projection, min_cases: int) -> dict[str, Any]:
    """The front page's statistics (:func:`~streams.audit.stats.stats_of`), as the dashboard's."""
    return copy.deepcopy(_together(projection, min_cases)[0])


def dashboard_seeds(
    projection: Projection, chosen: list[CaseFacts], filters: Filters, min_cases: int
) -> Seeds:
    """What the dashboard must withhold of ``chosen`` (the cases ``filters`` keep) first.

    The columns the front page withholds (once both views agree) of the rows counting the
    same cases as the dashboard's ``counts`` or one of its agencies' rows.
    """
    return _seeds(_together(projection, min_cases)[1], chosen, filters)


@functools.lru_cache(maxsize=1)  # the latest read: an older one is not kept alive
def _together(projection: Projection, min_cases: int) -> tuple[dict[str, Any], Held]:
    """The front page's view and what both views withhold, once neither withholds more."""
    outcomes = [case.outcome for case in projection.cases]
    held: dict[frozenset[int], frozenset[str]] = {}
    while True:
        view, front = stats_and_withheld(
            outcomes,
            projection.skipped_entries,
            projection.read_at,
            min_cases=min_cases,
            held=held,
        )
        found = _union(held, front, _dashboard_withheld(projection.cases, min_cases, held))
        if found == held:
            return view, held
        held = found


def _dashboard_withheld(cases: list[CaseFacts], min_cases: int, held: Held) -> Held:
    """What the dashboard without filters withholds, given ``held``, in the front page's terms."""
    computed = {
        "counts": counts(cases),
        "handling_times": [],  # their cases are not on the front page
        "violation_ratio": violation_ratio(cases, {}),
        "follow_up": follow_up_rate(cases),
        "catatan_merah": catatan_merah(cases, Filters()),
    }
    found = protect_figures(computed, Filters(), min_cases, _seeds(held, cases, Filters()))
    everyone, agencies = _members(cases)
    front: dict[frozenset[int], set[str]] = defaultdict(set)
    for figure, same in SAME_COUNTS.items():
        for row in found[figure] if figure != "counts" else [found["counts"]]:
            members = everyone if figure == "counts" else agencies.get(row["agency"])
            if members is not None:
                front[members] |= {ours for ours, theirs in same.items() if theirs in withheld(row)}
    return {members: frozenset(columns) for members, columns in front.items()}


def _seeds(held: Held, chosen: list[CaseFacts], filters: Filters) -> Seeds:
    everyone, agencies = _members(chosen)
    seeds: Seeds = {("counts", ""): _theirs(held.get(everyone), "counts")}
    dated = filters.date_from is not None or filters.date_to is not None
    # With a date range, "catatan merah" counts the cases proven in it: other cases.
    figures = (
        ("violation_ratio", "follow_up")
        if dated
        else ("violation_ratio", "follow_up", "catatan_merah")
    )
    for agency, members in agencies.items():
        for figure in figures:
            seeds[(figure, agency)] = _theirs(held.get(members), figure)
    return seeds


def _theirs(columns: frozenset[str] | None, figure: str) -> set[str]:
    """The dashboard's columns of ``figure`` counting what the front page's ``columns`` count."""
    return {theirs for ours, theirs in SAME_COUNTS[figure].items() if ours in (columns or ())}


def _members(cases: list[CaseFacts]) -> tuple[frozenset[int], dict[str, frozenset[int]]]:
    """The cases as the front page keys them: all of them, and those of each agency."""
    agencies: dict[str, list[int]] = defaultdict(list)
    for case in cases:
        agencies[case.outcome.institution].append(id(case.outcome))
    everyone = frozenset(id(case.outcome) for case in cases)
    return everyone, {agency: frozenset(ids) for agency, ids in agencies.items()}


def _union(*helds: Held) -> dict[frozenset[int], frozenset[str]]:
    found: dict[frozenset[int], frozenset[str]] = {}
    for held in helds:
        for members, columns in held.items():
            found[members] = found.get(members, frozenset()) | columns
    return found
