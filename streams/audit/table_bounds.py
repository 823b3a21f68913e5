"""What a reader works out of each withheld count from everything a table publishes, together.

Each published figure bounds the withheld counts on its own: a column's cells add up to its shown
total, each count of a row is among the one before it (the case lifecycle, the rule's *chain*),
a wider set's count is a ceiling, a reason code says 1 to K-1 (:func:`told_interval`), and no
count is negative. Read one at a time they can each leave a withheld count open while together
they close it. Rows a=(1, 1), b=(2, 2) and c=(3, 2) of (reported, proven), with a and b withheld
for their small groups and c's proven for its small count, totals 6 and 5 shown: a and b hold
6 - 3 = 3 cases, so at most 3 proven, so c's proven is at least 5 - 3 = 2, and its code says at
most 2. Column by column, c's proven was only known to be 1 or 2.

So the bounds are propagated as a constraint solver does (bounds consistency): every constraint
narrows the interval of each cell it holds from the others' intervals, over and over until
nothing changes. Beside the column sums and the chain, each pair of chained columns with both
totals shown adds up too: the rows' differences (reported less proven, never negative) add up to
the difference of the totals, which is what carries a bound from one column to the next across
rows (above: the differences add up to 6 - 5 = 1, so c's is at most 1).

The intervals are never narrower than the truth (every constraint holds of the real table); the
property test in ``tests/audit/test_table_bounds.py`` checks, by brute force over every integer
table that agrees with what is published, that they are as narrow as what a reader can know,
for tables of 2 to 4 rows and 2 to 3 chained columns.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations, pairwise
from typing import Any

#: A cell of a table: (row index, column).
Cell = tuple[int, str]
#: Where no variable stands in a term.
_NONE = -1


@dataclass(frozen=True)
class Interval:
    """What the published figures tell of one withheld count: it lies in ``low`` .. ``high``."""

    low: float
    high: float

    @property
    def pinned(self) -> bool:
        """Whether the bounds leave a single value (or none: figures that disagree)."""
        return self.high <= self.low


def told_interval(reason: str | None, base: bool, min_cases: int) -> Interval:
    """What a withheld cell's reason code and its row tell of it, before any other figure.

    A row is listed only for a case, so its number of cases is at least 1; a small group's
    number of cases and a small count are 1 to K-1 (the codes say so), and every count of a
    small group is at most its number of cases.
    """
    small = reason in ("small_count", "small_group")
    low = 1.0 if base or reason == "small_count" else 0.0
    return Interval(low, float(min_cases - 1) if small else math.inf)


@dataclass(frozen=True)
class Published:
    """What a table tells a reader.

    Attributes:
        rows: the table, every value present (a value withheld by another table may be None).
        hidden: per row, its withheld columns (a cell known to be 0 anyway is not one).
        columns: the counts the constraints read (the chain and the additive columns).
        chain: the counts of a row, each among the one before it.
        totals: column -> its shown total (a column without one adds up to nothing shown).
        ceilings: per row, column -> a count of a published set of cases holding the row's.
        base: the column counting a row's cases (a listed row holds at least one).
        reasons: per row, each withheld column -> its reason code (what it tells: see
            :func:`told_interval`); a cell without one tells nothing more.
        min_cases: K.
    """

    rows: Sequence[Mapping[str, Any]]
    hidden: Sequence[Collection[str]]
    columns: Sequence[str]
    chain: Sequence[str]
    totals: Mapping[str, int]
    ceilings: Sequence[Mapping[str, int]] | None = None
    base: str | None = None
    reasons: Sequence[Mapping[str, str]] | None = None
    min_cases: int = 2


@dataclass
class _Term:
    """``x[plus] - x[minus] + constant``, never negative when ``ordered`` (a chain difference)."""

    plus: int
    minus: int
    constant: float
    ordered: bool


@dataclass
class _Model:
    """The withheld cells as variables with their intervals, and the constraints over them."""

    cells: list[Cell]
    low: list[float]
    high: list[float]
    #: Each: terms adding up to a constant.
    sums: list[tuple[list[_Term], float]] = field(default_factory=list)
    #: Each: (later, earlier) variables of one row, the later at most the earlier.
    orders: list[tuple[int, int]] = field(default_factory=list)


def table_intervals(published: Published) -> dict[Cell, Interval]:
    """Each withheld cell of ``published.columns`` -> the narrowest bounds the table allows.

    Args:
        published: what the table tells.

    Returns:
        Per withheld cell its interval; bounds that contradict each other (a value withheld by
        another table, unknown here, that the shown figures disagree with) give a pinned one.
    """
    model = _model(published)
    while _tighten(model) and _consistent(model):
        pass
    return {
        cell: Interval(low, high)
        for cell, low, high in zip(model.cells, model.low, model.high, strict=True)
    }


def _consistent(model: _Model) -> bool:
    """Whether every interval still holds a value (else tightening could go on forever)."""
    return all(low <= high for low, high in zip(model.low, model.high, strict=True))


def _model(published: Published) -> _Model:
    index: dict[Cell, int] = {}
    model = _Model([], [], [])
    for at, cells in enumerate(published.hidden):
        for column in published.columns:
            if column in cells:
                index[(at, column)] = len(model.cells)
                model.cells.append((at, column))
                why = (published.reasons[at] if published.reasons else {}).get(column)
                told = told_interval(why, column == published.base, published.min_cases)
                ceiling = (published.ceilings[at] if published.ceilings else {}).get(column)
                model.low.append(max(0.0, told.low))
                model.high.append(min(told.high, math.inf if ceiling is None else ceiling))
    _add_chain(model, published, index)
    _add_sums(model, published, index)
    return model


def _add_chain(model: _Model, published: Published, index: Mapping[Cell, int]) -> None:
    """Each count among the one before it: between variables, or a bound from a shown one."""
    for at, row in enumerate(published.rows):
        for earlier, later in pairwise(published.chain):
            first, then = index.get((at, earlier)), index.get((at, later))
            if first is not None and then is not None:
                model.orders.append((then, first))
            elif then is not None and isinstance(row[earlier], int):
                model.high[then] = min(model.high[then], row[earlier])
            elif first is not None and isinstance(row[later], int):
                model.low[first] = max(model.low[first], row[later])


def _add_sums(model: _Model, published: Published, index: Mapping[Cell, int]) -> None:
    """Each column to its total; each pair of chained columns' differences to theirs."""
    for column, total in published.totals.items():
        terms = [_term(published.rows, index, at, column, None) for at in _rows(published)]
        _add_sum(model, terms, total)
    chained = [column for column in published.chain if column in published.totals]
    for earlier, later in combinations(chained, 2):
        terms = [_term(published.rows, index, at, earlier, later) for at in _rows(published)]
        _add_sum(model, terms, published.totals[earlier] - published.totals[later])


def _rows(published: Published) -> range:
    return range(len(published.rows))


def _term(
    rows: Sequence[Mapping[str, Any]],
    index: Mapping[Cell, int],
    at: int,
    column: str,
    less: str | None,
) -> _Term | None:
    """Row ``at``'s ``column`` (less its ``less``); None where a value is unknown here."""
    plus, minus, constant = index.get((at, column), _NONE), _NONE, 0.0
    if plus == _NONE:
        if not isinstance(rows[at][column], int):
            return None
        constant += rows[at][column]
    if less is not None:
        minus = index.get((at, less), _NONE)
        if minus == _NONE:
            if not isinstance(rows[at][less], int):
                return None
            constant -= rows[at][less]
    return _Term(plus, minus, constant, less is not None)


def _add_sum(model: _Model, terms: list[_Term | None], total: float) -> None:
    varying: list[_Term] = []
    constant = 0.0
    for term in terms:
        if term is None:
            return  # a value withheld by another table and unknown here: that table guards it
        if term.plus != _NONE or term.minus != _NONE:
            varying.append(term)
        else:
            constant += term.constant
    if varying:
        model.sums.append((varying, total - constant))


def _tighten(model: _Model) -> bool:
    """One pass over every constraint; whether any interval narrowed."""
    changed = False
    for later, earlier in model.orders:
        changed |= _set(model, later, high=model.high[earlier])
        changed |= _set(model, earlier, low=model.low[later])
    for terms, total in model.sums:
        changed |= _tighten_sum(model, terms, total)
    return changed


def _tighten_sum(model: _Model, terms: list[_Term], total: float) -> bool:
    """Each term is the total less the others: at most it less their lows, at least less highs."""
    spans = [_span(model, term) for term in terms]
    lows = sum(low for low, _high in spans)
    unbounded = sum(1 for _low, high in spans if high == math.inf)
    highs = sum(high for _low, high in spans if high != math.inf)
    changed = False
    for term, (low, high) in zip(terms, spans, strict=True):
        most = total - (lows - low)
        others_unbounded = unbounded - (high == math.inf)
        least = -math.inf if others_unbounded else total - (highs - _finite(high))
        changed |= _narrow(model, term, max(low, least), min(high, most))
    return changed


def _finite(value: float) -> float:
    return 0.0 if value == math.inf else value


def _span(model: _Model, term: _Term) -> tuple[float, float]:
    """The least and most ``term`` can be from its variables' intervals."""
    low = high = term.constant
    if term.plus != _NONE:
        low, high = low + model.low[term.plus], high + model.high[term.plus]
    if term.minus != _NONE:
        low, high = low - model.high[term.minus], high - model.low[term.minus]
    return (max(low, 0.0) if term.ordered else low), high


def _narrow(model: _Model, term: _Term, low: float, high: float) -> bool:
    """Narrow the term's variables so that it lies within ``low`` .. ``high``."""
    changed = False
    plus, minus, constant = term.plus, term.minus, term.constant
    if plus != _NONE:
        below = model.low[minus] if minus != _NONE else 0.0
        above = model.high[minus] if minus != _NONE else 0.0
        changed |= _set(model, plus, low=low - constant + below, high=high - constant + above)
    if minus != _NONE:
        above = model.high[plus] if plus != _NONE else 0.0
        below = model.low[plus] if plus != _NONE else 0.0
        changed |= _set(model, minus, low=below + constant - high, high=above + constant - low)
    return changed


def _set(model: _Model, at: int, low: float = -math.inf, high: float = math.inf) -> bool:
    """Raise the variable's low and lower its high to these; whether either moved."""
    if model.high[at] < model.low[at]:
        return False  # contradictory already: left pinned, never looped on
    changed = False
    if low > model.low[at]:
        model.low[at], changed = low, True
    if high < model.high[at]:
        model.high[at], changed = high, True
    return changed
