"""The suppression rule (:mod:`streams.audit.suppression`) applied to the dashboard's figures.

Every channel (the page, ``figures.json``, the CSVs, the SVGs, ``kawal stats``) publishes the
view this module returns, so a value withheld on one is withheld on all.

The per-agency tables add up to the ``counts`` figure: ``violation_ratio``'s reported and
proven to ``received`` and ``proven``, ``follow_up``'s recommended and followed up to
``recommended`` and ``followed_up`` (not followed up is their difference), and, without a date
range, "catatan merah"'s proven to ``proven``. Those totals are the ones the secondary rule
withholds when a column has no other cell to withhold. Without a date range, an agency's proven
count is the same in the violation ratio and in "catatan merah", and the handling stages from
the recommendation on count (nearly) the cases recommended and followed up: such twins are
withheld alike.

"Catatan merah" keeps naming its agencies: the red mark is about the agency, on purpose. Its
count and its days are withheld for an agency with fewer than K cases proven in the period.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from streams.audit.figures.export import COLUMNS
from streams.audit.figures.filters import Filters
from streams.audit.figures.handling import STAGES
from streams.audit.suppression import (
    COMPLEMENTARY,
    REASONS,
    SMALL_REASONS,
    SMALL_SELECTION,
    TableRule,
    mark,
    protect_table,
    seed,
    share_withheld,
    withheld,
    withheld_last,
)
from streams.audit.withheld_words import every_why, summary

COUNTS_RULE = TableRule(
    base="received",
    counts=("received", "proven", "recommended", "followed_up", "sanctioned"),
    # Each among the one before it (streams.audit.bounds): a shown one bounds a withheld one.
    chain=("received", "proven", "recommended", "followed_up", "sanctioned"),
)
HANDLING_RULE = TableRule(
    base="cases",
    counts=("cases", "provisional"),
    details=("median_working_days", "p90_working_days"),
)
RATIO_RULE = TableRule(
    base="reported",
    counts=("reported", "proven"),
    derived={"proven_per_1000": ("proven",)},
    additive=("reported", "proven"),
    chain=("reported", "proven"),
)
FOLLOW_UP_RULE = TableRule(
    base="recommended",
    # Not followed up = pending + overdue + closed without follow-up: the row's counts add up,
    # one withheld withholds all.
    counts=(
        "recommended",
        "followed_up",
        "not_followed_up",
        "pending",
        "overdue",
        "closed_without_follow_up",
    ),
    derived={"follow_up_rate": ("recommended", "followed_up", "not_followed_up")},
    linked=True,
    additive=("recommended", "followed_up", "not_followed_up"),
)
RED_MARK_RULE = TableRule(
    base="proven",
    counts=("proven",),
    details=("first_proven_on", "last_proven_on"),
    additive=("proven",),
)
#: Column of a per-agency table -> the column of ``counts`` it adds up to.
RATIO_TOTALS = {"reported": "received", "proven": "proven"}
#: Column of ``counts`` -> the handling stages whose cases are (nearly) the same or among
#: them: a withheld total must not be read off their number of cases, nor bounded by it
#: (every stage's cases were received), nor told zero or not by a median shown or missing.
STAGE_TWINS = {
    "received": tuple(STAGES),
    "recommended": ("recommendation",),
    "followed_up": ("follow_up", "end_to_end"),
}
FOLLOW_UP_TOTALS = {
    "recommended": "recommended",
    "followed_up": "followed_up",
    "not_followed_up": "followed_up",
}


def protect_figures(
    figures: dict[str, Any],
    filters: Filters,
    min_cases: int,
    seeds: Mapping[tuple[str, str], set[str]] | None = None,
    ceilings: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """A copy of ``figures`` (counts to catatan merah) with what the rule holds back withheld.

    Args:
        figures: ``counts``, ``handling_times``, ``violation_ratio``, ``follow_up`` and
            ``catatan_merah`` as :func:`streams.audit.figures.view.figures` computes them.
        filters: the filters they were computed for ("catatan merah" adds up to the counts
            only without a date range).
        min_cases: K.
        seeds: ``(figure, agency)`` (agency ``""`` for ``counts``) -> columns to withhold
            there before the rule runs: what the front page withholds of the same cases
            (:mod:`streams.audit.figures.public_views`).
        ceilings: column of ``counts`` -> its count over a published wider set of cases (the
            dashboard without one of the filters): an upper bound of the filtered count.
    """
    found = copy.deepcopy(figures)
    counts = found["counts"]
    # The whole selection below K: everything computed from it goes, zeros and rows included.
    whole = 0 < counts["received"] < min_cases
    _seed(found, seeds or {}, min_cases, whole)
    protect_table(found["handling_times"], HANDLING_RULE, min_cases, whole)
    if whole:
        found["violation_ratio"] = [_withheld_row("violation_ratio", RATIO_RULE)]
        found["follow_up"] = [_withheld_row("follow_up", FOLLOW_UP_RULE)]
    before: list[str] | None = None
    # Until the counts withhold no more: a total the agencies' tables withhold may leave
    # another count pinned between the shown ones, and one withheld for that changes the
    # agencies' totals.
    while before != withheld(counts):
        before = list(withheld(counts))
        protect_table([counts], COUNTS_RULE, min_cases, whole, ceilings=[ceilings or {}])
        mark(counts, _protect_agencies(found, filters, min_cases, whole), COMPLEMENTARY)
    for column, stages in STAGE_TWINS.items():
        if column in withheld(counts):
            for row in found["handling_times"]:
                if row["stage"] in stages:
                    # The whole row: provisional times are among the stage's cases (all
                    # provisional would be the withheld number), and a median shown or None
                    # would tell whether any case finished the stage.
                    mark(row, {*HANDLING_RULE.counts, *HANDLING_RULE.details})
    found["violation_ratio"] = withheld_last(found["violation_ratio"], "proven")
    found["follow_up"] = withheld_last(found["follow_up"], "follow_up_rate")
    found["catatan_merah"] = withheld_last(found["catatan_merah"], "proven")
    return found


#: The rule of each per-agency figure, as :func:`_seed` reads a seeded row's own reasons.
AGENCY_RULES = {
    "violation_ratio": RATIO_RULE,
    "follow_up": FOLLOW_UP_RULE,
    "catatan_merah": RED_MARK_RULE,
}


def _seed(
    found: dict[str, Any], seeds: Mapping[tuple[str, str], set[str]], min_cases: int, whole: bool
) -> None:
    """Withhold what ``seeds`` names, so that the rule runs on with it."""
    seed(found["counts"], seeds.get(("counts", ""), set()), COUNTS_RULE, min_cases, whole)
    for figure, rule in AGENCY_RULES.items():
        for row in found[figure]:
            seed(row, seeds.get((figure, row["agency"]), set()), rule, min_cases, whole)


def _protect_agencies(
    found: dict[str, Any], filters: Filters, min_cases: int, whole: bool
) -> set[str]:
    """Protect the per-agency tables alike; the columns of ``counts`` to withhold with them."""
    # Without a date range, an agency's proven cases are the same in both tables.
    dated = filters.date_from is not None or filters.date_to is not None
    twins = [] if whole or dated else _twins(found["violation_ratio"], found["catatan_merah"])
    totals: set[str] = set()
    again = True
    while again:
        # Totals withheld already (a seed, the counts' own rule): their cells must not all show.
        gone = set(withheld(found["counts"])) | totals
        if not whole:
            ratio = protect_table(
                found["violation_ratio"],
                RATIO_RULE,
                min_cases,
                totals_withheld=_parts(gone, RATIO_TOTALS),
            )
            follow = protect_table(
                found["follow_up"],
                FOLLOW_UP_RULE,
                min_cases,
                totals_withheld=_parts(gone, FOLLOW_UP_TOTALS),
            )
            totals |= {RATIO_TOTALS[c] for c in ratio} | {FOLLOW_UP_TOTALS[c] for c in follow}
        red_totals = () if dated else _parts(gone, {"proven": "proven"})
        red = protect_table(
            found["catatan_merah"], RED_MARK_RULE, min_cases, totals_withheld=red_totals
        )
        if red and not dated:
            totals.add("proven")
        again = share_withheld(twins, {"proven"})
    return totals


def _parts(totals: set[str], adding_up: Mapping[str, str]) -> set[str]:
    """The columns of a per-agency table adding up to one of the withheld ``totals``."""
    return {column for column, total in adding_up.items() if total in totals}


def _twins(
    ratio: list[dict[str, Any]], red: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    by_agency = {row["agency"]: row for row in ratio}
    return [(by_agency[row["agency"]], row) for row in red if row["agency"] in by_agency]


def suppression(min_cases: int) -> dict[str, Any]:
    """K and why values are withheld, in both languages, for the exports.

    ``reason`` is true of every withheld value; ``reasons`` says each reason code of the rows'
    ``withheld_because``, and ``wider_filter_helps`` the codes a wider filter may bring back
    (a value withheld so that another cannot be worked out was made from many cases).
    """
    return {
        "min_cases": min_cases,
        "reason": {locale: summary(locale, min_cases) for locale in ("id", "en")},
        "reasons": every_why(min_cases),
        "wider_filter_helps": [code for code in REASONS if code in SMALL_REASONS],
    }


def _withheld_row(figure: str, rule: TableRule) -> dict[str, Any]:
    """One row standing for a whole table of a selection below K, without even its agencies."""
    row: dict[str, Any] = dict.fromkeys(COLUMNS[figure])
    mark(row, {"agency", *rule.protected}, SMALL_SELECTION)
    return row
