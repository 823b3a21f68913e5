"""The front page's statistics and the dashboard withhold alike what they count of the same cases.

Both views apply the suppression rule (:mod:`streams.audit.suppression`) to their own tables:
the front page (:mod:`streams.audit.stats`, and ``kawal stats`` without a filter) its totals
and its rows per election, region and agency; the dashboard
(:mod:`streams.audit.figures.small_groups`) its figures. Where both publish the count of the
same cases, a value one withholds would be given away by the other: the front page's
recommended and followed up of an agency are the dashboard's follow-up row of that PPK, and a
PPK the secondary rule withholds on the dashboard would be the front page's total less the
agencies it shows. So the two are protected together until neither withholds more (the
columns of :data:`SAME_COUNTS`):

- the front page's totals and the dashboard's ``counts``, without a filter;
- an agency's row of the front page and its rows of the violation ratio, the follow-up rate
  and "catatan merah" (proven, without a date range);
- a row of the front page (an election, a region, an agency) and the dashboard filtered to
  it, where they count the same cases: ``?region=3374`` and the row of region 3374 (the cases
  of code 3374 exactly) agree whenever no case is of a region within 3374.

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
from streams.audit.figures.filters import REGION_CODE, Filters
from streams.audit.figures.small_groups import protect_figures
from streams.audit.figures.wider import ceilings
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
#: Cases as the front page keys them (ids of their outcomes): all, and those of each agency.
Members = tuple[frozenset[int], dict[str, frozenset[int]]]


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
    return _seeds(_together(projection, min_cases)[1], _members(chosen), filters)


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
    """What the dashboards of the front page's rows withhold, given ``held``, in its terms.

    The dashboard without filters, and with each election, region (and province) and agency
    the front page has a row of: a dashboard filtered to one of them counts the same cases as
    that row (``?region=3374`` the row of region 3374, when no case is of a region within it).
    """
    front: dict[frozenset[int], set[str]] = defaultdict(set)
    wider: dict[Filters, dict[str, int]] = {}
    for filters, chosen in _row_filters(cases):
        computed = {
            "counts": counts(chosen),
            "handling_times": [],  # their cases are not on the front page
            "violation_ratio": violation_ratio(chosen, {}),
            "follow_up": follow_up_rate(chosen),
            # The cases of the filters' place already: "catatan merah" needs no other filter.
            "catatan_merah": catatan_merah(chosen, Filters()),
        }
        keyed = _members(chosen)
        found = protect_figures(
            computed,
            filters,
            min_cases,
            _seeds(held, keyed, filters),
            ceilings(cases, filters, wider),
        )
        _in_front_terms(front, found, keyed)
    return {members: frozenset(columns) for members, columns in front.items()}


def _row_filters(cases: list[CaseFacts]) -> list[tuple[Filters, list[CaseFacts]]]:
    """No filter, and a filter for each election, region, province and agency of ``cases``.

    Each with the cases it keeps, grouped in one pass: a national store has some 550 regions
    and as many agencies.
    """
    by: dict[str, dict[str, list[CaseFacts]]] = {
        "election": defaultdict(list),
        "region": defaultdict(list),
        "agency": defaultdict(list),
    }
    for case in cases:
        by["election"][case.outcome.election].append(case)
        by["region"][case.outcome.region.replace(".", "")].append(case)
        by["agency"][case.outcome.institution].append(case)
    chosen = [(Filters(), cases)]
    chosen += [(Filters(election=key), found) for key, found in sorted(by["election"].items())]
    chosen += [(Filters(agency=key), found) for key, found in sorted(by["agency"].items())]
    regions = by["region"]
    for wanted in sorted(set(regions) | {region[:2] for region in regions}):
        if REGION_CODE.match(wanted):
            within = [case for code in regions if code.startswith(wanted) for case in regions[code]]
            chosen.append((Filters(region=wanted), within))
    return chosen


def _in_front_terms(
    front: dict[frozenset[int], set[str]], found: dict[str, Any], keyed: Members
) -> None:
    """Add what ``found`` withholds to ``front``, by the cases each of its rows counts."""
    everyone, agencies = keyed
    for figure, same in SAME_COUNTS.items():
        for row in found[figure] if figure != "counts" else [found["counts"]]:
            members = everyone if figure == "counts" else agencies.get(row["agency"])
            if members is not None:
                front[members] |= {ours for ours, theirs in same.items() if theirs in withheld(row)}


def _seeds(held: Held, keyed: Members, filters: Filters) -> Seeds:
    everyone, agencies = keyed
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


def _members(cases: list[CaseFacts]) -> Members:
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
