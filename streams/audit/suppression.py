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
  non-zero, is withheld. Nor may their sum leave one withheld cell known from what its row and
  reason code tell (:func:`streams.audit.bounds.pinned_in_sum`).
- **linked rows**: where a row's counts add up to each other (recommended = followed up + not
  followed up), one withheld count withholds the whole row.
- **bounds**: every count of a row is at most its base (proven cases are among those reported),
  so a shown count is a lower bound of a withheld base; with the column's total that bound can
  give the base back, and the small row's with it. So a withheld base withholds the row's
  counts.
- **twins**: where two tables publish the count of the same cases, a value withheld in one is
  withheld in the other (:func:`share_withheld`), and the rule runs again.
- **intervals**: a withheld count must not be pinned between the shown figures bounding it
  (the row's other counts, each among the one before it, the total, a wider set's count):
  :mod:`streams.audit.bounds`.

A withheld value becomes None, and its row lists the column under :data:`WITHHELD` and why
under :data:`WITHHELD_BECAUSE` (one of :data:`REASONS`), so that a reader is told the truth: a
figure withheld only so that another cannot be worked out was made from many cases.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from streams.audit.bounds import Interval, pinned, pinned_in_sum, row_interval, told_interval
from streams.audit.complement_cost import cheapest

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
    choose = _Chooser(rows, hidden, rule, min_cases, total_costs or {})
    changed = True
    while changed:
        # Every row is closed before the columns are looked at: no short-circuit.
        changed = any([_close_row(cells, rule) for cells in hidden])
        for column in rule.additive:
            hiding = _hiding(hidden, known_zero)
            complement = choose(hiding, column, column in totals_withheld)
            if complement is not None and complement >= 0:
                hidden[complement].setdefault(column, COMPLEMENTARY)
                changed = True
        for index, column in pinned(rows, hidden, rule.chain, totals, ceilings):
            hidden[index].setdefault(column, COMPLEMENTARY)
            changed = True
    # Only once no row changes: a cell withheld later (a linked row) may keep the total shown.
    hiding = _hiding(hidden, known_zero)
    needed = {
        column
        for column in rule.additive
        if choose(hiding, column, column in totals_withheld) is None
    }
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


class _Chooser:
    """The secondary rule's choice in one table (see :func:`_complement`)."""

    def __init__(
        self,
        rows: list[dict[str, Any]],
        hidden: list[dict[str, str]],
        rule: TableRule,
        min_cases: int,
        total_costs: Mapping[str, int],
    ) -> None:
        self.rows, self.hidden, self.rule = rows, hidden, rule
        self.min_cases, self.total_costs = min_cases, total_costs

    def __call__(self, hiding: list[set[str]], column: str, total_withheld: bool) -> int | None:
        """The row to withhold ``column`` of too; -1 for none needed; None for the total."""
        needed = _needs_complement(self.rows, hiding, column, self.min_cases, total_withheld)
        if not needed and (total_withheld or not self._pinned(hiding, column)):
            return -1
        # A withheld total must not be the sum of its shown cells: only a cell can help.
        total_cost = None if total_withheld else self.total_costs.get(column)
        return cheapest(self.rows, hiding, column, self._row_loss, total_cost)

    def _pinned(self, hiding: list[set[str]], column: str) -> bool:
        """Whether the withheld cells' sum (the total less the shown) leaves one of them known.

        Their reason codes, the rows' existence and their rows' shown counts bound each of them
        (three elections of one case each and a total of 3: each is 1).
        """
        alone = [index for index, cells in enumerate(hiding) if column in cells]
        values = [self.rows[index][column] for index in alone]
        if not all(isinstance(value, int) for value in values):
            return False  # withheld before by a twin table, which guards it
        return pinned_in_sum([self._told(index, column) for index in alone], sum(values))

    def _told(self, index: int, column: str) -> Interval:
        cells = self.hidden[index]
        told = told_interval(cells.get(column), column == self.rule.base, self.min_cases)
        if column not in self.rule.chain:
            return told
        own = row_interval(self.rows[index], set(cells), self.rule.chain, column, {})
        return Interval(max(told.low, own.low), min(told.high, own.high))

    def _row_loss(self, index: int, column: str) -> int:
        return cells_lost(self.hidden[index], self.rule, column)


def cells_lost(cells: Mapping[str, str], rule: TableRule, column: str) -> int:
    """How many shown cells of a row go if its ``column`` is withheld (it included).

    Args:
        cells: the row's withheld columns, with their reasons.
        rule: how to read the row.
        column: the column to withhold.
    """
    closed = {**cells, column: COMPLEMENTARY}
    # The row's own consequences (a base takes the row, a linked count the row).
    while _close_row(closed, rule):
        pass
    return len(set(closed) - set(cells))


def _needs_complement(
    rows: list[dict[str, Any]],
    hidden: list[set[str]],
    column: str,
    min_cases: int,
    total_withheld: bool = False,
) -> bool:
    """Whether the withheld cells of ``column`` could be worked out: one more must go.

    The total less the shown cells is the sum of the withheld ones: one withheld cell is
    given back whole, and several whose sum is 1 to K-1 are a small group given back together
    (two elections of one case each, both proven: each case proven). A withheld total is the
    sum of its cells while they are all shown.
    """
    alone = [index for index, cells in enumerate(hidden) if column in cells]
    values = [rows[index][column] for index in alone]
    # A cell withheld before (by a twin table) has lost its value: that table guards it.
    together = sum(values) if all(isinstance(value, int) for value in values) else None
    if total_withheld:
        return not alone
    return len(alone) == 1 or _small(together, min_cases)
