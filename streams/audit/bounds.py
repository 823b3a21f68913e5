"""Withheld counts must not be pinned by the published figures that bound them.

A withheld count is not only a total less the shown cells (the secondary rule,
:mod:`streams.audit.suppression`): every published figure that bounds it narrows it too. By the
case lifecycle (:mod:`streams.domain.lifecycle`) each count of a case is a subset of the one
before it, the rule's *chain*: sanctioned cases are among the followed up (a ``SanctionImposed``
only follows a proven recommendation), followed up among the recommended, recommended among the
proven, proven among the received. So a shown later count bounds a withheld one from below, and
a shown earlier count, or the same count of a set of cases holding these (the dashboard without
a filter holds those of ``?region=33``: the *ceilings*), bounds it from above. With
``region=33``'s sanctioned 17 shown and the unfiltered followed up 17, its followed up is 17
exactly, withheld or not. Across rows, the columns' totals carry such bounds from one row to
another: :mod:`streams.audit.table_bounds` propagates them all together.

:func:`unpin` finds a withheld non-zero count whose interval holds one value (a zero identifies
nobody) and the published figure to withhold so that it holds more: the cheapest that does
(:mod:`streams.audit.complement_cost`), among the shown counts of its row, the shown cells of
its column and the column's total.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence

from streams.audit.complement_cost import Cost
from streams.audit.table_bounds import Cell, Published, table_intervals

#: (row index, column) -> the columns of that row withheld with it (it included).
Takes = Callable[[int, str], set[str]]
#: At most this many choices are tried on one pinned count, cheapest first: each try
#: propagates the table's bounds again (a few ms on a table of hundreds of rows).
TRIALS = 6


@dataclasses.dataclass(frozen=True)
class Unpinned:
    """What to withhold so that a pinned count holds more than one value."""

    #: The row and column of a shown cell, or None.
    cell: Cell | None = None
    #: Or the column whose published total goes.
    total: str | None = None


def pinned_cells(published: Published) -> list[Cell]:
    """The withheld cells whose interval leaves one value other than 0."""
    if not any(set(published.columns) & set(cells) for cells in published.hidden):
        return []  # nothing withheld: nothing to propagate
    return [
        cell
        for cell, interval in table_intervals(published).items()
        if interval.pinned and interval.high > 0
    ]


def unpin(
    published: Published, takes: Takes, total_costs: Mapping[str, int] | None = None
) -> Unpinned | None:
    """The figure to withhold for the first pinned count this table can help.

    Args:
        published: what the table tells.
        takes: the columns of a row a cell takes with it if withheld.
        total_costs: column -> the published cells its total takes with it: a total is then a
            choice like any cell; a column not given: its total goes only where no cell helps.

    Returns:
        The cheapest choice that leaves the count more than one value, else the cheapest
        choice (another round finds the next); None where nothing is pinned, or where no figure
        of this table bounds what is (a table of withheld cells pinned by a wider one: that
        table's rule guards it).
    """
    found = pinned_cells(published)
    if found:
        # Pinned by what no figure of this table holds (a wider set's count and the cell's
        # own code): withholding here would lose figures for nothing.
        found = [cell for cell in found if cell not in pinned_cells(_all_withheld(published))]
    fallback = None
    for cell in found:
        choices = _choices(published, cell, takes, total_costs or {})
        tried = [*choices[:TRIALS], *choices[-1:]] if len(choices) > TRIALS else choices
        for choice in tried:
            if cell not in pinned_cells(_without(published, choice, takes)):
                return choice
        # No one figure leaves it open (two small groups of 2 beside totals of 4 and 4: both
        # totals must go): the cheapest goes, and the next round finds the next.
        fallback = fallback or (choices[0] if choices else None)
    return fallback


def _choices(
    published: Published, cell: Cell, takes: Takes, total_costs: Mapping[str, int]
) -> list[Unpinned]:
    """The shown counts of the cell's row and the shown cells of its column, cheapest first."""
    at, column = cell
    rows, hidden = published.rows, published.hidden
    shown = [(at, other) for other in published.columns if other not in hidden[at]]
    shown += [(index, column) for index in range(len(rows)) if column not in hidden[index]]
    costs: dict[Unpinned, Cost] = {}
    for index, other in dict.fromkeys(shown):
        value = rows[index][other]
        if isinstance(value, int) and value > 0:
            lost = len(takes(index, other) - set(hidden[index]))
            costs[Unpinned(cell=(index, other))] = Cost(lost, False, float(value))
    if column in published.totals:
        # Compared after every cell of the same cost: a total is the table's widest figure;
        # without a cost (another table pays it), it goes only where no cell helps: last.
        dearest = len(rows) * len(published.columns) + 1  # more than any cell takes
        cost = total_costs.get(column, dearest)
        costs[Unpinned(total=column)] = Cost(cost, False, math.inf)
    return sorted(costs, key=lambda choice: costs[choice])


def _all_withheld(published: Published) -> Published:
    """What is left once every figure of the table is withheld: codes and wider sets' counts."""
    hidden = [set(published.columns) for _row in published.rows]
    return dataclasses.replace(published, hidden=hidden, totals={})


def _without(published: Published, choice: Unpinned, takes: Takes) -> Published:
    """What the table tells once ``choice`` (and what it takes with it) is withheld."""
    if choice.total is not None:
        totals = {c: t for c, t in published.totals.items() if c != choice.total}
        return dataclasses.replace(published, totals=totals)
    assert choice.cell is not None
    at, column = choice.cell
    hidden: Sequence[set[str]] = [
        set(cells) | (takes(at, column) if index == at else set())
        for index, cells in enumerate(published.hidden)
    ]
    return dataclasses.replace(published, hidden=hidden)
