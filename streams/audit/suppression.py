"""Statistical disclosure control: no published value is derived from fewer than K cases.

Anyone who knows of one report (from the news, from a colleague) and can narrow a public table
down to it learns that civil servant's outcome. So every public figure follows one rule
(docs/dashboard.md, "Small numbers"), with K the setting ``KAWAL_STATS_MIN_CASES``:

- **primary**: a row whose group (its *base* count: the cases it is computed over) holds 1 to
  K-1 cases shows none of its values, zeros included; in any other row, a count of 1 to K-1
  cases is withheld, and so is every value computed from a withheld count (a rate, a ratio).
  Zero identifies nobody and is shown.
- **secondary**: in a column whose cells add up to a published total, one withheld cell could
  be recovered by subtraction; so a column never has exactly one withheld cell, nor withheld
  cells holding 1 to K-1 together (a small group given back whole): the shown non-zero cell
  (or the total) whose loss costs the least published information is withheld with them
  (:mod:`streams.audit.complement_cost`), or the total when there is none. A withheld zero
  that another public table tells anyway hides nothing and does not count. Where the total
  is withheld (by another rule), its cells would add up to it: one of them, the cheapest
  non-zero, is withheld.
- **linked rows**: where a row's counts add up to each other (recommended = followed up + not
  followed up), one withheld count withholds the whole row.
- **bounds**: every count of a row is at most its base (proven cases are among those reported),
  so a shown count is a lower bound of a withheld base; with the column's total that bound can
  give the base back, and the small row's with it. So a withheld base withholds the row's
  counts.
- **twins**: where two tables publish the count of the same cases, a value withheld in one is
  withheld in the other (:func:`share_withheld`), and the rule runs again.
- **intervals**: a withheld non-zero count must not be pinned by the published figures
  bounding it, taken all together: the columns' totals, the chain of each row (each count among
  the one before it), a wider set's count, what the reason codes say, none negative
  (:mod:`streams.audit.table_bounds`); the cheapest figure that leaves it open goes with it
  (:mod:`streams.audit.bounds`). Rows (1, 1) and (2, 2) of small groups beside (3, 2) with a
  small proven count, totals shown: the first two hold 3 cases, so at most 3 proven, so the
  third's proven is 2; its number of cases goes too.

A withheld value becomes None, and its row lists the column under :data:`WITHHELD` and why
under :data:`WITHHELD_BECAUSE` (one of :data:`REASONS`), so that a reader is told the truth: a
figure withheld only so that another cannot be worked out was made from many cases.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from streams.audit.bounds import unpin
from streams.audit.complement_cost import complement
from streams.audit.table_bounds import Published

#: Key of a row listing its withheld columns (present only when some are withheld).
WITHHELD = "withheld"
#: Key of a row mapping each withheld column to its reason code (one of :data:`REASONS`).
WITHHELD_BECAUSE = "withheld_because"

#: The value counts 1 to K-1 cases, or is computed from such a count.
SMALL_COUNT = "small_count"
#: The row's group holds 1 to K-1 cases: none of its values is shown.
SMALL_GROUP = "small_group"
#: The filters choose 1 to K-1 cases: nothing computed from them is shown.
SMALL_SELECTION = "small_selection"
#: Made from enough cases, withheld so that another withheld value cannot be worked out from
#: the totals, the row's other counts or the figures bounding it.
COMPLEMENTARY = "complementary"
#: Withheld because another published table (or the front page) counts the same cases and
#: withholds it there: shown here, it would give that one away.
SAME_CASES = "same_cases"
#: Every reason code, most specific first.
REASONS = (SMALL_COUNT, SMALL_GROUP, SMALL_SELECTION, COMPLEMENTARY, SAME_CASES)
#: The reasons a wider filter can help with (more cases in the group).
SMALL_REASONS = frozenset({SMALL_COUNT, SMALL_GROUP, SMALL_SELECTION})


@dataclass(frozen=True)
class TableRule:
    """How the rule reads the rows of one table."""

    #: The column counting the cases the row is computed over.
    base: str
    #: Columns that count cases (the base among them).
    counts: tuple[str, ...]
    #: Values of the group as a whole (a median, a day): withheld with the base.
    details: tuple[str, ...] = ()
    #: Column -> the counts it is computed from: withheld when any of them is.
    derived: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: The row's counts add up to each other: one withheld withholds the row.
    linked: bool = False
    #: Columns adding up to a published total: the secondary rule applies.
    additive: tuple[str, ...] = ()
    #: Counts each among the one before it (proven cases are among the received): a shown
    #: count bounds the withheld ones around it (:mod:`streams.audit.bounds`).
    chain: tuple[str, ...] = ()

    @property
    def protected(self) -> tuple[str, ...]:
        """Every column the rule may withhold."""
        return (*self.counts, *self.details, *self.derived)


def withheld(row: Mapping[str, Any]) -> list[str]:
    """The columns withheld in ``row``."""
    found: list[str] = row.get(WITHHELD, [])
    return found


def reasons(row: Mapping[str, Any]) -> dict[str, str]:
    """Each withheld column of ``row`` -> its reason code (:data:`REASONS`)."""
    found: dict[str, str] = row.get(WITHHELD_BECAUSE, {})
    return found


def protect_table(
    rows: list[dict[str, Any]],
    rule: TableRule,
    min_cases: int,
    whole: bool = False,
    known_zero: list[set[str]] | None = None,
    totals_withheld: Collection[str] = (),
    *,
    totals: Mapping[str, int | None] | None = None,
    ceilings: list[Mapping[str, int]] | None = None,
    total_costs: Mapping[str, int] | None = None,
) -> set[str]:
    """Withhold in place the values of ``rows`` that the rule holds back.

    Args:
        rows: the table; values of withheld columns become None. A row may come with columns
            withheld already (by a table it must agree with): they stay withheld.
        rule: how to read the rows.
        min_cases: K.
        whole: withhold every protected value (the whole selection is below K).
        known_zero: per row, columns that are 0 and that a reader knows are 0 anyway
            (another public table tells): withheld, such a cell hides nothing, so the
            secondary rule does not count it.
        totals_withheld: additive columns whose published total is withheld already: one
            of their cells at least is withheld too, or the shown ones would add up to it.
        totals: additive column -> its published total (bounds its withheld cells).
        ceilings: per row, column -> the count of a published set of cases holding the row's.
        total_costs: additive column -> the published cells its total takes with it if
            withheld: the total is then a choice of the secondary rule like any cell, taken
            where it costs less (:mod:`streams.audit.complement_cost`). A column not given:
            its total goes only where no cell can.

    Returns:
        The additive columns whose published total must be withheld too.
    """
    hidden = [_start(row, rule, min_cases, whole) for row in rows]

    def choose(hiding: list[set[str]], column: str, total_withheld: bool) -> int | None:
        """The secondary rule's choice: a row's ``column``, -1 for none, None for the total."""
        costs = {} if total_withheld else total_costs or {}
        return complement(rows, hiding, column, min_cases, total_withheld, row_loss, costs)

    def row_loss(at: int, column: str) -> int:
        return cells_lost(hidden[at], rule, column)

    # With the totals withheld so that a count is not pinned (the bounds rule), for good.
    gone = {*totals_withheld}
    # The totals the secondary rule withholds as things stand (decided once nothing changes).
    chosen_totals: set[str] = set()
    changed = True
    while changed:
        # Every row is closed before the columns are looked at: no short-circuit.
        changed = any([_close_row(cells, rule) for cells in hidden])
        chosen_totals.clear()
        for column in rule.additive:
            chosen = choose(_hiding(hidden, known_zero), column, column in gone)
            if chosen is None:
                chosen_totals.add(column)
            elif chosen >= 0:
                hidden[chosen].setdefault(column, COMPLEMENTARY)
                changed = True
        if changed:
            continue  # the bounds are read of the table as published, not half-way
        without = gone | chosen_totals
        table = _published(rows, hidden, rule, min_cases, known_zero, without, totals, ceilings)
        found = unpin(table, lambda at, column: _takes(hidden[at], rule, column), total_costs)
        if found is not None and found.cell is not None:
            hidden[found.cell[0]].setdefault(found.cell[1], COMPLEMENTARY)
            changed = True
        elif found is not None and found.total is not None:
            gone.add(found.total)
            changed = True
    # Decided once nothing changes: a cell withheld later (a linked row) may keep a total shown.
    needed = chosen_totals | (gone - set(totals_withheld))
    for row, cells in zip(rows, hidden, strict=True):
        mark(row, cells)
    return needed


def _start(row: Mapping[str, Any], rule: TableRule, min_cases: int, whole: bool) -> dict[str, str]:
    """The cells of ``row`` withheld before the secondary rule, with their reasons."""
    before = {c: reasons(row).get(c, SAME_CASES) for c in withheld(row)}
    if whole:
        return _first(before, dict.fromkeys(rule.protected, SMALL_SELECTION))
    return _first(before, _primary(row, rule, min_cases))


def _first(*found: Mapping[str, str]) -> dict[str, str]:
    """Each column with the most specific of its reasons (the earliest of :data:`REASONS`)."""
    merged: dict[str, str] = {}
    for reasons_of in found:
        for column, why in reasons_of.items():
            known = merged.get(column)
            if known is None or REASONS.index(why) < REASONS.index(known):
                merged[column] = why
    return merged


def mark(
    row: dict[str, Any], columns: Collection[str] | Mapping[str, str], why: str = SAME_CASES
) -> None:
    """Withhold ``columns`` of ``row`` (with those already withheld).

    Args:
        row: the row.
        columns: the columns, or each column -> its reason code.
        why: the reason of ``columns`` given without one.
    """
    given = dict(columns) if isinstance(columns, Mapping) else dict.fromkeys(columns, why)
    every = set(withheld(row)) | set(given)
    if not every:
        return
    # A small count is what the reader can act on (a wider filter): it wins over a reason
    # that another table or the secondary rule gave first.
    because = _first(reasons(row), given)
    for column in every:
        row[column] = None
    row[WITHHELD] = sorted(every)
    row[WITHHELD_BECAUSE] = {column: because.get(column, why) for column in sorted(every)}


def seed(
    row: dict[str, Any],
    columns: Collection[str],
    rule: TableRule,
    min_cases: int,
    whole: bool = False,
    own: Mapping[str, str] | None = None,
) -> None:
    """Withhold ``columns`` of ``row`` because another view withholds them of the same cases.

    Each column keeps the reason the row's own counts give it, read before they are withheld
    (a row of one case is a small group, whatever the other view says; ``whole``: the
    selection is below K), else the reason ``own`` gives it (the row's table without the
    other view), else ``same_cases``.
    """
    if not columns:
        return
    if whole:
        mine = dict.fromkeys(rule.protected, SMALL_SELECTION)
    else:
        mine = _primary(row, rule, min_cases)
    given = own or {}
    mark(row, {column: mine.get(column, given.get(column, SAME_CASES)) for column in columns})


def share_withheld(twins: list[tuple[dict[str, Any], dict[str, Any]]], columns: set[str]) -> bool:
    """Withhold in both rows of each pair what either withholds of ``columns``.

    Two tables holding the same group's count (the same cases in two groupings) must withhold
    it alike, or one would publish what the other's secondary rule withheld.

    Returns:
        Whether anything more was withheld (then the tables' rule must run again).
    """
    changed = False
    for first, second in twins:
        either = (set(withheld(first)) | set(withheld(second))) & columns
        for row in (first, second):
            missing = either - set(withheld(row))
            if missing:
                mark(row, missing)
                changed = True
    return changed


def withheld_last(rows: list[dict[str, Any]], column: str) -> list[dict[str, Any]]:
    """Rows whose sort ``column`` is withheld moved to the end, by name.

    Left in place, a withheld row's position between shown values would tell its value.
    """
    shown = [row for row in rows if column not in withheld(row)]
    hidden = [row for row in rows if column in withheld(row)]
    return shown + sorted(hidden, key=lambda row: str(row.get("agency") or ""))


def _primary(row: Mapping[str, Any], rule: TableRule, min_cases: int) -> dict[str, str]:
    if _small(row[rule.base], min_cases):
        return dict.fromkeys(rule.protected, SMALL_GROUP)
    return {column: SMALL_COUNT for column in rule.counts if _small(row[column], min_cases)}


def _small(value: Any, min_cases: int) -> bool:
    return isinstance(value, int) and 0 < value < min_cases


def _close_row(cells: dict[str, str], rule: TableRule) -> bool:
    """Add to ``cells`` what they make withheld in their row; whether any was added."""
    before = len(cells)
    # A value computed from withheld counts is withheld for their reason.
    for column, sources in rule.derived.items():
        source = next((cells[s] for s in sources if s in cells), None)
        if source is not None:
            cells.setdefault(column, source)
    if rule.linked and set(cells) & set(rule.counts):
        for column in (*rule.counts, *rule.derived):
            cells.setdefault(column, COMPLEMENTARY)
    if rule.base in cells:
        # A shown count would bound the base from below (see the module): it goes too. A
        # small group's values go for its size (its base, seeded by another view, is None).
        small = cells[rule.base] in (SMALL_GROUP, SMALL_SELECTION)
        for column in (*rule.details, *rule.counts):
            cells.setdefault(column, cells[rule.base] if small else COMPLEMENTARY)
    return len(cells) > before


def _hiding(hidden: list[dict[str, str]], known_zero: list[set[str]] | None) -> list[set[str]]:
    """The withheld cells that hide a value: not those known to be 0 anyway."""
    if known_zero is None:
        return [set(cells) for cells in hidden]
    return [set(cells) - zeros for cells, zeros in zip(hidden, known_zero, strict=True)]


def cells_lost(cells: Mapping[str, str], rule: TableRule, column: str) -> int:
    """How many shown cells of a row go if its ``column`` is withheld (it included).

    Args:
        cells: the row's withheld columns, with their reasons.
        rule: how to read the row.
        column: the column to withhold.
    """
    return len(_takes(cells, rule, column) - set(cells))


def _takes(cells: Mapping[str, str], rule: TableRule, column: str) -> set[str]:
    """The columns of a row withheld once its ``column`` is (the row's ``cells`` with them)."""
    closed = {**cells, column: COMPLEMENTARY}
    # The row's own consequences (a base takes the row, a linked count the row).
    while _close_row(closed, rule):
        pass
    return set(closed)


def _published(
    rows: list[dict[str, Any]],
    hidden: list[dict[str, str]],
    rule: TableRule,
    min_cases: int,
    known_zero: list[set[str]] | None,
    gone: Collection[str],
    totals: Mapping[str, int | None] | None,
    ceilings: list[Mapping[str, int]] | None,
) -> Published:
    """What the table tells a reader, for :func:`streams.audit.bounds.unpin`.

    A column's total is the one given, else the sum of its cells (a cell withheld by a twin
    table has lost its value: then none is known here, and that table guards it).
    """
    shown: dict[str, int] = {}
    for column in rule.additive:
        given = (totals or {}).get(column, sum(row[column] or 0 for row in rows))
        # Without a given total, a cell withheld by a twin table leaves its sum unknown here.
        known = column in (totals or {}) or all(isinstance(row[column], int) for row in rows)
        if column not in gone and given is not None and known:
            shown[column] = given
    return Published(
        rows=rows,
        hidden=_hiding(hidden, known_zero),
        columns=tuple(dict.fromkeys((*rule.chain, *rule.additive))),
        chain=rule.chain,
        totals=shown,
        ceilings=ceilings,
        base=rule.base,
        reasons=hidden,
        min_cases=min_cases,
    )
