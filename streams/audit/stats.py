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
adds up to the totals, so the secondary rule applies to its columns). Entries whose bytes no
longer decode are counted in ``skipped_entries`` and otherwise left out; ``kawal audit verify``
is where a trail's integrity is checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.decoding import EntryDecoder
from streams.audit.store import AuditStore
from streams.audit.suppression import TableRule, mark, protect_table, share_withheld
from streams.domain.lifecycle import FOLLOW_UP_RULE
from streams.settings import Settings

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
    "region": "Kemendagri code of the region where the violation happened",
}

#: The suppression rule's reading of the totals and of every grouping's rows.
TOTALS_RULE = TableRule(base="reported", counts=tuple(COLUMNS))
GROUP_RULE = TableRule(base="reported", counts=tuple(COLUMNS), additive=tuple(COLUMNS))

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


def stats_view(store: AuditStore, codec: AvroCodec, *, min_cases: int) -> dict[str, Any]:
    """Counts per election, region and institution, with totals and definitions.

    Args:
        store: the audit store to read.
        codec: decodes the stored event bytes.
        min_cases: K: a count of fewer cases is withheld (None, listed under ``withheld``).

    Returns:
        A JSON-ready dict: ``totals``, ``by_election``, ``by_region`` and ``by_institution``
        (lists of rows, each with its key and every column of :data:`COLUMNS`; a withheld count
        is None and listed under the row's ``withheld``), ``cases``, ``skipped_entries``,
        ``min_cases``, ``definitions`` and ``generated_at``.

    Raises:
        StoreError: the store cannot be read.
    """
    outcomes, skipped = project(store.events_of_types(READ_TYPES), codec)
    return stats_of(outcomes.values(), skipped, min_cases=min_cases)


def stats_of(
    outcomes: Iterable[CaseOutcome],
    skipped: int,
    read_at: datetime | None = None,
    *,
    min_cases: int,
) -> dict[str, Any]:
    """The view of :func:`stats_view` from cases' outcomes and the entries left undecoded.

    For readers that already hold the outcomes (the dashboard's projection, shared with the
    front page) and need not read the store again; ``read_at`` is when they were read (now
    if not given), the view's ``generated_at``.
    """
    reported = [case for case in outcomes if case.reported]
    view: dict[str, Any] = {
        "generated_at": (read_at or datetime.now(UTC)).isoformat(),
        "cases": len(reported),
        "skipped_entries": skipped,
        "min_cases": min_cases,
        "totals": _counts(reported),
    }
    twins: list[tuple[dict[str, Any], dict[str, Any]]] = []
    # Rows of the same cases in two groupings (a region with its one PPK) are twins.
    seen: dict[frozenset[int], dict[str, Any]] = {frozenset(map(id, reported)): view["totals"]}
    for key, attribute, _heading in GROUPINGS:
        groups = _groups(reported, attribute)
        view[key] = [{attribute: name} | _counts(groups[name]) for name in sorted(groups)]
        for row in view[key]:
            members = frozenset(map(id, groups[row[attribute]]))
            if members in seen:
                twins.append((seen[members], row))
            seen.setdefault(members, row)
    _protect(view, min_cases, twins)
    view["definitions"] = DEFINITIONS
    return view


def _protect(
    view: dict[str, Any], min_cases: int, twins: list[tuple[dict[str, Any], dict[str, Any]]]
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
            mark(totals, protect_table(view[key], GROUP_RULE, min_cases, whole))
        again = share_withheld(twins, set(COLUMNS))


def project(
    entries: Iterable[tuple[str, bytes]], codec: AvroCodec
) -> tuple[dict[str, CaseOutcome], int]:
    """Fold ``(case_id, event bytes)`` entries, in trail order per case, into outcomes.

    Returns:
        The outcome of every case seen, and how many entries could not be decoded.
    """
    outcomes: dict[str, CaseOutcome] = {}
    decoder = EntryDecoder(codec)
    for case_id, record in decoder.records(entries):
        apply(outcomes.setdefault(case_id, CaseOutcome()), record)
    return outcomes, decoder.skipped


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


def run_stats(settings: Settings, *, as_json: bool) -> int:
    """``kawal stats``: print the statistics of the configured audit store.

    Args:
        settings: where the audit store is.
        as_json: print JSON for scripts instead of the readable table.

    Returns:
        The exit code, 0.

    Raises:
        StoreError: no audit store at the configured URL, or it cannot be read.
    """
    store = AuditStore.open_existing(settings.audit_url)
    try:
        view = stats_view(store, AvroCodec(default_catalog()), min_cases=settings.stats_min_cases)
    finally:
        store.close()
    print(json.dumps(view, indent=2) if as_json else "\n".join(format_table(view)))
    return 0


def format_table(view: dict[str, Any]) -> list[str]:
    """The statistics as aligned text tables, one per grouping, totals last."""
    lines: list[str] = []
    for key, attribute, heading in GROUPINGS:
        lines += _table(heading, [(row[attribute], row) for row in view[key]])
        lines.append("")
    lines += _table("", [("total", view["totals"])])
    if view["skipped_entries"]:
        lines.append(f"{view['skipped_entries']} undecodable entries left out")
    return lines


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
