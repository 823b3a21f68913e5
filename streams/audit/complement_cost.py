"""The cell the secondary rule withholds: the one whose loss costs the least published information.

When a column's withheld cells could be worked out from its published total (one cell alone,
or cells holding 1 to K-1 together: :func:`needs_complement`), one more value must go: a
shown cell of the column, or the total (:mod:`streams.audit.suppression`). Statistical
disclosure control chooses it by a cost, as tau-argus's cost functions do (per cell: its
value, its number of contributors, or one per cell) and minimises the total cost. Here the
cost of a choice is, in order:

1. the published cells it takes with it: a row's number of cases takes the whole row (a shown
   count would bound it), a count of a linked row (the follow-up rate) the whole row, any
   other count itself alone; a total takes what its own row loses, and one cell more in each
   other grouping adding up to it that shows every cell of the column (it would give it back);
2. whether it is the last shown non-zero cell of its column: withheld, the table no longer
   tells anything of that column beyond zeros, where a withheld total leaves every cell shown
   and is itself bounded by them;
3. its value (tau-argus's default): a smaller count loses less.

Two elections of one case each beside a large one (the demo at start): the large election's
number of cases and its total cost the same whole row, and the large election's row would
leave the table without any election's number of cases, so the total goes and the large
election is published.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

#: (row index, column) -> how many shown cells of that row go if the cell is withheld.
RowLoss = Callable[[int, str], int]


class Cost(NamedTuple):
    """The cost of withholding one cell (see the module): compared in field order."""

    cells: int
    last: bool
    value: float


#: Where the total is the cheapest choice.
TOTAL = None


def cheapest(
    rows: Sequence[Mapping[str, Any]],
    hidden: Sequence[set[str]],
    column: str,
    row_loss: RowLoss,
    total_cost: int | None = None,
) -> int | None:
    """The row whose ``column`` to withhold, or :data:`TOTAL` for the column's total.

    Args:
        rows: the table, every value present.
        hidden: per row, its withheld columns.
        column: the column one more value of must go.
        row_loss: the shown cells of a row its cell takes with it.
        total_cost: the published cells the total takes with it; None: the total goes only
            where no cell can (its cost is not known here).
    """
    candidates = [
        index
        for index, cells in enumerate(hidden)
        if column not in cells and (rows[index][column] or 0) > 0
    ]
    costs = {
        index: Cost(row_loss(index, column), len(candidates) == 1, float(rows[index][column]))
        for index in candidates
    }
    if total_cost is not None:
        # Compared after every cell of the same cost: a total is the table's widest figure.
        total = Cost(total_cost, False, math.inf)
        if not costs or total < min(costs.values()):
            return TOTAL
    if not costs:
        return TOTAL
    return min(candidates, key=lambda index: (costs[index], index))


def complement(
    rows: Sequence[Mapping[str, Any]],
    hidden: Sequence[set[str]],
    column: str,
    min_cases: int,
    total_withheld: bool,
    row_loss: RowLoss,
    total_costs: Mapping[str, int],
) -> int | None:
    """The row whose ``column`` the secondary rule withholds too, -1 for none, or :data:`TOTAL`.

    Args:
        rows: the table, every value present.
        hidden: per row, its withheld columns.
        column: an additive column.
        min_cases: K.
        total_withheld: whether the column's total is withheld already (then only a cell
            can help: a withheld total must not be the sum of its shown cells).
        row_loss: the shown cells of a row its cell takes with it.
        total_costs: column -> the published cells its total takes with it.
    """
    if not needs_complement(rows, hidden, column, min_cases, total_withheld):
        return -1
    return cheapest(rows, hidden, column, row_loss, total_costs.get(column))


def needs_complement(
    rows: Sequence[Mapping[str, Any]],
    hidden: Sequence[set[str]],
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
    if total_withheld:
        return not alone
    # A cell withheld before (by a twin table) has lost its value: that table guards it.
    if not all(isinstance(value, int) for value in values):
        return len(alone) == 1
    return len(alone) == 1 or 0 < sum(values) < min_cases
