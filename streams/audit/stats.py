"""Public statistics of neutrality cases: a projection of the audit store.

Every case is attributed to the ``election``, ``region_code`` (Kemendagri code) and
``employing_agency`` (the institution id of the PPK that employs the reported civil servant,
the one that must follow up a recommendation) of its ``ReportReceived``, and counted at most
once in each column of its groups:

- **reported**: the case was opened by a ``ReportReceived``.
- **proven**: a ``VerificationCompleted`` with verdict ``PROVEN`` (the supervisor's or the
  joint task force's finding; the presumption of innocence holds until then).
- **recommended**: the recommending authority issued a ``RecommendationIssued`` with
  ``proven`` true, i.e. a sanction recommendation to the PPK.
- **followed up**: a proven recommendation that the PPK acted on with a ``SanctionImposed``,
  late or not. DOMAIN.md's "about half of all sanction recommendations are never followed up"
  is ``recommended - followed_up`` here.
- **sanctioned**: a ``SanctionImposed`` still in force: not overturned by an ``AppealDecided``
  (``OVERTURNED``); an amended sanction stays in force.
- **follow-up overdue**: the hub's ``DeadlineBreached`` for the follow-up rule
  (``recommendation_follow_up``): the PPK did not act in time, whether it acted later or not.

Only these event types are read, and only their non-personal fields. The output holds counts
keyed by election, region code and institution id: never a case id, a name, a NIP or a
reporter, and no count of fewer than K cases (:mod:`streams.audit.suppression`; each grouping
adds up to the totals, so the secondary rule applies to its columns), nor what the dashboard
withholds of the same cases (:mod:`streams.audit.figures.public_views`). Entries whose bytes no
longer decode are counted in ``skipped_entries`` and otherwise left out; ``kawal audit verify``
is where a trail's integrity is checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from streams.audit.public_names import UNKNOWN
from streams.audit.suppression import (
    COMPLEMENTARY,
    TableRule,
    cells_lost,
    mark,
    protect_table,
    reasons,
    seed,
    share_withheld,
    withheld,
)
from streams.audit.withheld_words import legend, withheld_lines
from streams.domain.lifecycle import FOLLOW_UP_RULE

#: Counted columns, in display order, with the label of the readable table.
COLUMNS: dict[str, str] = {
    "reported": "reported",
    "proven": "proven",
    "recommended": "recommended",
    "followed_up": "followed up",
    "sanctioned": "sanctioned",
    "follow_up_overdue": "follow-up overdue",
}

#: Groupings: output key, the case attribute it groups by, and its heading.
GROUPINGS: tuple[tuple[str, str, str], ...] = (
    ("by_election", "election", "election"),
    ("by_region", "region", "region"),
    ("by_institution", "institution", "institution"),
)

#: One-line definitions, shipped with the numbers so that readers need not guess.
DEFINITIONS: dict[str, str] = {
    "reported": "cases opened by a ReportReceived",
    "proven": "cases with a VerificationCompleted verdict PROVEN",
    "recommended": "cases with a RecommendationIssued that found the violation proven",
    "followed_up": "recommended cases where the PPK then imposed a sanction (SanctionImposed)",
    "sanctioned": "cases with a SanctionImposed not overturned on objection or appeal",
    "follow_up_overdue": f"cases whose {FOLLOW_UP_RULE} deadline was breached",
    "institution": "the employing agency (PPK) of the reported civil servant",
    "institution_name": "the employing agency's name in the registry (null: the registry does "
    "not name it, an unknown agency)",
    "region_name": "the region's name (null: the hub has no name for the code, an unknown region)",
    "region": "Kemendagri code of the region where the violation happened, exactly as reported: "
    "a province's row holds only the cases reported at province level (the dashboard's region "
    "filter keeps every region within it)",
}

#: Each count of a case among the one before it (the lifecycle allows a sanction only after a
#: proven recommendation, a recommendation only after a proven finding): bounds of each other.
CHAIN = ("reported", "proven", "recommended", "followed_up", "sanctioned")
#: The suppression rule's reading of the totals and of every grouping's rows.
TOTALS_RULE = TableRule(base="reported", counts=tuple(COLUMNS), chain=CHAIN)
GROUP_RULE = TableRule(base="reported", counts=tuple(COLUMNS), additive=tuple(COLUMNS), chain=CHAIN)

#: Event types the projection reads; every other entry is skipped in SQL.
READ_TYPES = (
    "ReportReceived",
    "VerificationCompleted",
    "RecommendationIssued",
    "SanctionImposed",
    "AppealDecided",
    "DeadlineBreached",
)


@dataclass
class CaseOutcome:
    """What the statistics need of one case (no personal data)."""

    election: str = ""
    region: str = ""
    institution: str = ""
    reported: bool = False
    proven: bool = False
    recommended: bool = False
    followed_up: bool = False
    sanctioned: bool = False
    follow_up_overdue: bool = False


#: Cases (ids of their :class:`CaseOutcome`) -> columns withheld in every row counting them.
Held = Mapping[frozenset[int], frozenset[str]]


def stats_of(
    outcomes: Iterable[CaseOutcome],
    skipped: int,
    read_at: datetime | None = None,
    *,
    min_cases: int,
    held: Held | None = None,
) -> dict[str, Any]:
    """Counts per election, region and institution, with totals and definitions.

    ``read_at`` is when the outcomes were read (now if not given), the view's
    ``generated_at``; ``held`` what another view withholds of the same cases (see
    :func:`stats_and_withheld`). The front page and ``kawal stats`` show it as
    :func:`streams.audit.figures.public_views.front_page_stats` gives it, agreeing with the
    dashboard.

    Returns:
        A JSON-ready dict: ``totals``, ``by_election``, ``by_region`` and ``by_institution``
        (lists of rows, each with its key and every column of :data:`COLUMNS`; a withheld count
        is None and listed under the row's ``withheld``), ``cases``, ``skipped_entries``,
        ``min_cases``, ``definitions`` and ``generated_at``.
    """
    return stats_and_withheld(outcomes, skipped, read_at, min_cases=min_cases, held=held)[0]


def stats_and_withheld(
    outcomes: Iterable[CaseOutcome],
    skipped: int,
    read_at: datetime | None = None,
    *,
    min_cases: int,
    held: Held | None = None,
) -> tuple[dict[str, Any], dict[frozenset[int], frozenset[str]]]:
    """The view of :func:`stats_of`, and what it withholds of each row's cases.

    Args:
        outcomes: the cases.
        skipped: entries left undecoded.
        read_at: when the outcomes were read.
        min_cases: K.
        held: columns to withhold in the rows of these cases (keyed by the ``id`` of their
            outcomes), as another public view of the same cases withholds them; the rule runs
            on with them.

    Returns:
        The view, and the columns withheld in the rows of each set of cases.
    """
    reported = [case for case in outcomes if case.reported]
    own: dict[frozenset[int], dict[str, str]] = {}
    if held:
        # Why the front page withholds a cell by itself: a row it withholds for the secondary
        # rule is held by the dashboard filtered to it only because of this page, and must not
        # say "withheld elsewhere" on both.
        for members, row in _protected(reported, skipped, read_at, min_cases, {}, {})[1]:
            own[members] = own.get(members, {}) | reasons(row)
    view, rows = _protected(reported, skipped, read_at, min_cases, held or {}, own)
    found: dict[frozenset[int], frozenset[str]] = {}
    for members, row in rows:
        found[members] = found.get(members, frozenset()) | frozenset(withheld(row))
    return view, found


def _protected(
    reported: list[CaseOutcome],
    skipped: int,
    read_at: datetime | None,
    min_cases: int,
    held: Held,
    own: Mapping[frozenset[int], Mapping[str, str]],
) -> tuple[dict[str, Any], list[tuple[frozenset[int], dict[str, Any]]]]:
    """The view of ``reported`` with the rule applied, and each row with its cases.

    ``own``: per row's cases, the reasons its cells have without ``held`` (the seeds' reasons).
    """
    view: dict[str, Any] = {
        "generated_at": (read_at or datetime.now(UTC)).isoformat(),
        "cases": len(reported),
        "skipped_entries": skipped,
        "min_cases": min_cases,
        "totals": _counts(reported),
    }
    rows: list[tuple[frozenset[int], dict[str, Any]]] = [
        (frozenset(map(id, reported)), view["totals"])
    ]
    for key, attribute, _heading in GROUPINGS:
        groups = _groups(reported, attribute)
        view[key] = [{attribute: name} | _counts(groups[name]) for name in sorted(groups)]
        rows += [(frozenset(map(id, groups[row[attribute]])), row) for row in view[key]]
    known_zero = [_told_zero(row) for row in view["by_institution"]]
    whole = 0 < view["cases"] < min_cases
    for members, row in rows:
        # Seeded with the reason the row's own counts give: the values go with the marking.
        rule = TOTALS_RULE if row is view["totals"] else GROUP_RULE
        seeded = set(held.get(members, frozenset())) & set(COLUMNS)
        seed(row, seeded, rule, min_cases, whole, own.get(members, {}))
    _protect(view, min_cases, _twins(rows), known_zero)
    view["definitions"] = DEFINITIONS
    return view, rows


def _twins(
    rows: list[tuple[frozenset[int], dict[str, Any]]],
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Pairs of rows of the same cases in two groupings (a region with its one PPK)."""
    seen: dict[frozenset[int], dict[str, Any]] = {}
    twins = []
    for members, row in rows:
        if members in seen:
            twins.append((seen[members], row))
        seen.setdefault(members, row)
    return twins


def _told_zero(row: dict[str, Any]) -> set[str]:
    """The zeros of an agency's row that the dashboard tells anyway.

    The dashboard names every agency with a case proven ("catatan merah") and every PPK with
    a recommendation (the follow-up rate); a sanction and a follow-up deadline come only after
    a recommendation. Withheld, such a zero hides nothing.
    """
    told = {"proven"} if row["proven"] == 0 else set()
    if row["recommended"] == 0:
        told |= {"recommended", "followed_up", "sanctioned", "follow_up_overdue"}
    return {column for column in told if row[column] == 0}


def _protect(
    view: dict[str, Any],
    min_cases: int,
    twins: list[tuple[dict[str, Any], dict[str, Any]]],
    known_zero: list[set[str]],
) -> None:
    """Withhold what the suppression rule holds back, in every grouping and twin alike."""
    totals = view["totals"]
    whole = 0 < view["cases"] < min_cases
    protect_table([totals], TOTALS_RULE, min_cases, whole)
    if whole:
        view["cases"] = None
    again = True
    while again:
        for key, _attribute, _heading in GROUPINGS:
            zeros = known_zero if key == "by_institution" else None
            gone = set(withheld(totals))  # its cells must not all show: they add up to it
            costs = _total_costs(view, key, min_cases)
            needed = protect_table(
                view[key], GROUP_RULE, min_cases, whole, zeros, gone, total_costs=costs
            )
            mark(totals, needed, COMPLEMENTARY)
        again = share_withheld(twins, set(COLUMNS))


def _total_costs(view: dict[str, Any], key: str, min_cases: int) -> dict[str, int]:
    """Each column -> the published cells its total takes with it, for grouping ``key``.

    What the totals row loses (its number of cases takes the row), and a cell in each other
    grouping that would show every cell of the column: they would add up to the total.
    """
    cells = reasons(view["totals"])
    others = [other for other, _attribute, _heading in GROUPINGS if other != key]
    return {
        column: cells_lost(cells, TOTALS_RULE, column)
        + sum(not _hides(view[other], column, min_cases) for other in others)
        for column in COLUMNS
    }


def _hides(rows: list[dict[str, Any]], column: str, min_cases: int) -> bool:
    """Whether a grouping withholds a cell of ``column`` already, or will for a small group.

    Read before the grouping's own turn too: the first grouping protected must not count a
    cost the small rows of the others already pay.
    """
    return any(
        column in withheld(row)
        or 0 < (row["reported"] or 0) < min_cases
        or 0 < (row[column] or 0) < min_cases
        for row in rows
    )


def apply(case: CaseOutcome, record: dict[str, Any]) -> None:
    """Update ``case`` with one decoded event (types outside :data:`READ_TYPES` do nothing)."""
    event_type = record["envelope"]["event_type"]
    if event_type == "ReportReceived":
        case.reported = True
        case.election = record["election"]
        case.region = record["region_code"]
        case.institution = record["employing_agency"]
    elif event_type == "VerificationCompleted":
        case.proven = record["verdict"] == "PROVEN"
    elif event_type == "RecommendationIssued":
        case.recommended = bool(record["proven"])
    elif event_type == "SanctionImposed":
        case.followed_up = case.followed_up or case.recommended
        case.sanctioned = True
    elif event_type == "AppealDecided" and record["decision"] in ("OVERTURNED", "AMENDED"):
        case.sanctioned = record["decision"] == "AMENDED"
    elif event_type == "DeadlineBreached" and record["rule_id"] == FOLLOW_UP_RULE:
        case.follow_up_overdue = True


def _counts(cases: Iterable[CaseOutcome]) -> dict[str, int]:
    counts = dict.fromkeys(COLUMNS, 0)
    for case in cases:
        for column in COLUMNS:
            counts[column] += int(getattr(case, column))
    return counts


def _groups(cases: list[CaseOutcome], attribute: str) -> dict[str, list[CaseOutcome]]:
    groups: dict[str, list[CaseOutcome]] = {}
    for case in cases:
        groups.setdefault(getattr(case, attribute), []).append(case)
    return groups


def format_table(view: dict[str, Any]) -> list[str]:
    """The statistics as aligned text tables, one per grouping, totals last."""
    lines: list[str] = []
    for key, attribute, heading in GROUPINGS:
        lines += _table(heading, [(_named(row, attribute), row) for row in view[key]])
        lines += withheld_lines(view[key], attribute)
        lines.append("")
    lines += _table("", [("total", view["totals"])])
    lines += withheld_lines([view["totals"]], "")
    if view["skipped_entries"]:
        lines.append(f"{view['skipped_entries']} undecodable entries left out")
    rows = [view["totals"], *(row for key, _, _ in GROUPINGS for row in view[key])]
    return lines + legend(rows, view["min_cases"])


def _named(row: dict[str, Any], attribute: str) -> str:
    """A row's code, with its name where the view carries names (``region_name``, ...)."""
    key = f"{attribute}_name"
    if key not in row:
        return str(row[attribute])
    kind = "region" if attribute == "region" else "agency"
    return f"{row[attribute]} ({row[key] or UNKNOWN[kind]['en']})"


def _table(heading: str, rows: list[tuple[str, dict[str, int]]]) -> list[str]:
    width = max([len(heading), *(len(name) for name, _ in rows)])
    # A column is as wide as its label or its widest cell ("withheld" is wider than "proven").
    widths = {
        column: max([len(label), *(len(_cell(counts[column])) for _, counts in rows)])
        for column, label in COLUMNS.items()
    }
    header = heading.ljust(width) + "".join(
        f"  {label:>{widths[column]}}" for column, label in COLUMNS.items()
    )
    lines = [header]
    for name, counts in rows:
        cells = "".join(f"  {_cell(counts[column]):>{widths[column]}}" for column in COLUMNS)
        lines.append(name.ljust(width) + cells)
    if not rows:
        lines.append("(no cases)")
    return lines


def _cell(count: int | None) -> str:
    # None only where the suppression rule withheld the count.
    return "withheld" if count is None else str(count)
