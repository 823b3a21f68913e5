"""Withheld counts must not be pinned between the published figures that bound them.

A withheld count is not only a total less the shown cells (the secondary rule,
:mod:`streams.audit.suppression`): every published figure that bounds it narrows it too. By the
case lifecycle (:mod:`streams.domain.lifecycle`) each count of a case is a subset of the one
before it, the rule's *chain*: sanctioned cases are among the followed up (a ``SanctionImposed``
only follows a proven recommendation), followed up among the recommended, recommended among the
proven, proven among the received. So a shown later count bounds a withheld one from below, and
a shown earlier count, or the same count of a set of cases holding these (the dashboard without
a filter holds those of ``?region=33``: the *ceilings*), bounds it from above. With
``region=33``'s sanctioned 17 shown and the unfiltered followed up 17, its followed up is 17
exactly, withheld or not.

In a column adding up to a shown total, each withheld cell is also at most the total less the
shown cells less the lower bounds of the other withheld ones, and at least that total less their
upper bounds.

:func:`pinned` finds the withheld cells whose interval holds one value, and the shown cell to
withhold so that it holds more: the one bounding it from below (its value is the smaller), else
the one bounding it from above.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Known cells of a table: per row, the columns withheld (the rest are shown).
Hidden = Sequence[Collection[str]]


@dataclass(frozen=True)
class Interval:
    """What the published figures tell of one withheld count."""

    low: float
    high: float
    #: The shown cell (its column) the low bound is read from, if any.
    low_from: str | None = None
    #: The shown cell (its column) the high bound is read from, if any.
    high_from: str | None = None

    @property
    def pinned(self) -> bool:
        """Whether the bounds leave a single value."""
        return self.high <= self.low


def row_interval(
    row: Mapping[str, Any],
    hidden: Collection[str],
    chain: Sequence[str],
    column: str,
    ceilings: Mapping[str, int],
) -> Interval:
    """The bounds of ``column`` (withheld) from its row's shown chain and the ``ceilings``.

    Args:
        row: the row, with every value (the withheld ones too).
        hidden: the row's withheld columns.
        chain: the row's counts, each among the one before it.
        column: a column of ``chain``.
        ceilings: column -> the count of the same column in a set of cases holding these.
    """
    at = chain.index(column)
    low, low_from = 0.0, None
    for later in chain[at + 1 :]:
        if later not in hidden:
            low, low_from = float(row[later]), later
            break
    high, high_from = math.inf, None
    for earlier in reversed(chain[:at]):
        if earlier not in hidden:
            high, high_from = float(row[earlier]), earlier
            break
    ceiling = min((ceilings[c] for c in chain[: at + 1] if c in ceilings), default=math.inf)
    return Interval(low, min(high, ceiling), low_from, high_from if high <= ceiling else None)


def column_intervals(
    rows: Sequence[Mapping[str, Any]],
    hidden: Hidden,
    chain: Sequence[str],
    column: str,
    total: int | None,
    ceilings: Sequence[Mapping[str, int]] | None = None,
) -> dict[int, Interval]:
    """The bounds of each withheld cell of ``column``, row by row and from the shown ``total``."""
    own = {
        index: _own_interval(row, cells, chain, column, ceilings[index] if ceilings else {})
        for index, (row, cells) in enumerate(zip(rows, hidden, strict=True))
        if column in cells
    }
    if total is None or not own:
        return own
    left = total - sum(
        row[column] for row, cells in zip(rows, hidden, strict=True) if column not in cells
    )
    found = {}
    for index, interval in own.items():
        others = [other for at, other in own.items() if at != index]
        high = left - sum(other.low for other in others)
        low = left - sum(other.high for other in others)
        found[index] = Interval(
            max(interval.low, low),
            min(interval.high, high),
            interval.low_from,
            interval.high_from if interval.high <= high else None,
        )
    return found


def _own_interval(
    row: Mapping[str, Any],
    cells: Collection[str],
    chain: Sequence[str],
    column: str,
    ceilings: Mapping[str, int],
) -> Interval:
    if column in chain:
        return row_interval(row, cells, chain, column, ceilings)
    return Interval(0.0, math.inf)


def pinned(
    rows: Sequence[Mapping[str, Any]],
    hidden: Hidden,
    chain: Sequence[str],
    totals: Mapping[str, int | None] | None = None,
    ceilings: Sequence[Mapping[str, int]] | None = None,
) -> list[tuple[int, str]]:
    """The shown cells to withhold so that no withheld count of ``chain`` is pinned.

    A withheld value pinned only by figures outside these rows (a ceiling and a total: the
    cells of a table all withheld) cannot be helped here; that table's own rule guards it.

    Args:
        rows: the table, every value present.
        hidden: per row, its withheld columns.
        chain: the counts of a row, each among the one before it.
        totals: column -> its published total (None: withheld, or the column adds up to none).
        ceilings: per row, column -> a count of a set of cases holding the row's.

    Returns:
        ``(row index, column)`` of each cell to withhold (at most one per pinned value).
    """
    found: list[tuple[int, str]] = []
    for column in chain:
        total = (totals or {}).get(column)
        for index, interval in column_intervals(
            rows, hidden, chain, column, total, ceilings
        ).items():
            if not interval.pinned:
                continue
            source = interval.low_from if interval.low > 0 else None
            source = source or interval.high_from
            if source is not None and (index, source) not in found:
                found.append((index, source))
    return found


def told_interval(reason: str | None, base: bool, min_cases: int) -> Interval:
    """What a withheld cell's reason code and its row tell of it, before any total.

    A row is listed only for a case, so its number of cases is at least 1; a small group's
    number of cases and a small count are 1 to K-1 (the codes say so), and every count of a
    small group is at most its number of cases.
    """
    small = reason in ("small_count", "small_group")
    low = 1.0 if base or reason == "small_count" else 0.0
    return Interval(low, float(min_cases - 1) if small else math.inf)


def pinned_in_sum(intervals: Sequence[Interval], together: int) -> bool:
    """Whether withheld cells of these intervals, known to hold ``together``, leave one non-zero.

    Each cell is at least ``together`` less the others' highest and at most ``together`` less
    their lowest: three rows of one case each beside a total of 3 are each 1.
    """
    for at, interval in enumerate(intervals):
        others = [other for index, other in enumerate(intervals) if index != at]
        low = max(interval.low, together - sum(other.high for other in others))
        high = min(interval.high, together - sum(other.low for other in others))
        if low == high and low > 0:
            return True
    return False
