"""No withheld count is worked out from everything a table publishes, taken together.

The rule once reasoned one column at a time: rows a=(1, 1), b=(2, 2), c=(3, 2) of (reported,
proven) with both totals shown left c's proven at 2 exactly (a and b hold 3 cases, so at most 3
proven: 5 - 3 = 2, and its code says 1 or 2), and so every case of a and b proven. The checks
here are a reader's: every integer table that agrees with what is published, by brute force.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise, product
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.audit.suppression import TableRule, protect_table, reasons, withheld
from streams.audit.table_bounds import Published, table_intervals, told_interval

K = 3
#: Above every drawn value: where a reader knows no bound, the brute force stops here.
CAP = 14


def rule_of(columns: Sequence[str]) -> TableRule:
    """A table whose counts add up to totals, each among the one before it."""
    return TableRule(
        base=columns[0], counts=tuple(columns), additive=tuple(columns), chain=tuple(columns)
    )


def row_options(row: dict[str, Any], columns: Sequence[str]) -> list[tuple[int, ...]]:
    """Every row a reader holds possible: shown values, reason codes, the chain, none negative."""
    ranges = []
    for column in columns:
        if row[column] is not None:
            ranges.append(range(row[column], row[column] + 1))
            continue
        told = told_interval(reasons(row).get(column), column == columns[0], K)
        high = CAP if told.high == float("inf") else int(told.high)
        ranges.append(range(int(told.low), high + 1))
    return [
        values
        for values in product(*ranges)
        if all(later <= earlier for earlier, later in pairwise(values))
    ]


def possible_values(
    rows: list[dict[str, Any]], columns: Sequence[str], totals: dict[str, int]
) -> dict[tuple[int, str], set[int]]:
    """Each withheld cell -> every value it takes in some table agreeing with the published.

    Forward and backward over the rows: the sums of the columns with a shown total reachable
    before and after each row, so that every table is counted without listing them all.
    """
    summed = [at for at, column in enumerate(columns) if column in totals]
    target = tuple(totals[columns[at]] for at in summed)
    options = [row_options(row, columns) for row in rows]

    def add(sums: set[tuple[int, ...]], row: list[tuple[int, ...]]) -> set[tuple[int, ...]]:
        return {
            tuple(s + values[at] for s, at in zip(before, summed, strict=True))
            for before in sums
            for values in row
        }

    forward = [{tuple(0 for _ in summed)}]
    for row in options:
        forward.append(add(forward[-1], row))
    backward = [{tuple(0 for _ in summed)}]
    for row in reversed(options):
        backward.insert(0, add(backward[0], row))
    found: dict[tuple[int, str], set[int]] = {
        (index, column): set()
        for index, row in enumerate(rows)
        for column in columns
        if row[column] is None
    }
    for index, row in enumerate(options):
        for values in row:
            mine = tuple(values[at] for at in summed)
            fits = any(
                tuple(t - m - f for t, m, f in zip(target, mine, before, strict=True))
                in backward[index + 1]
                for before in forward[index]
            )
            if fits:
                for at, column in enumerate(columns):
                    if (index, column) in found:
                        found[(index, column)].add(values[at])
    return found


def published_after(
    truth: list[dict[str, Any]], columns: Sequence[str], costs: dict[str, int] | None
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The table as protected, and the totals it leaves shown."""
    rows = [dict(row) for row in truth]
    needed = protect_table(rows, rule_of(columns), K, total_costs=costs)
    totals = {c: sum(row[c] for row in truth) for c in columns if c not in needed}
    return rows, totals


def assert_nothing_given_away(
    truth: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    columns: Sequence[str],
    totals: dict[str, int],
) -> None:
    """No withheld non-zero count is known, and no column's withheld cells hold 1 to K-1."""
    for (index, column), values in possible_values(rows, columns, totals).items():
        assert truth[index][column] in values, (truth, rows, index, column, values)
        assert len(values) > 1 or values == {0}, (truth, rows, totals, index, column, values)
    for column, total in totals.items():
        left = total - sum(row[column] for row in rows if row[column] is not None)
        assert left == 0 or left >= K, (truth, rows, totals, column, left)


REVIEWED = [
    {"name": "a", "n": 1, "p": 1},
    {"name": "b", "n": 2, "p": 2},
    {"name": "c", "n": 3, "p": 2},
]


def test_the_reviewers_rows_leave_no_count_pinned() -> None:
    rows, totals = published_after(REVIEWED, ("n", "p"), None)

    # c's proven is its own small count; its number of cases goes so that it stays 1 or 2.
    assert reasons(rows[2]) == {"n": "complementary", "p": "small_count"}
    assert totals == {"n": 6, "p": 5}
    assert possible_values(rows, ("n", "p"), totals)[(2, "p")] == {1, 2}
    assert_nothing_given_away(REVIEWED, rows, ("n", "p"), totals)


def test_the_table_bounds_pin_what_the_columns_alone_leave_open() -> None:
    hidden = [{"n", "p"}, {"n", "p"}, {"p"}]
    codes = [{"n": "small_group", "p": "small_group"}] * 2 + [{"p": "small_count"}]
    table = Published(
        REVIEWED,
        hidden,
        ("n", "p"),
        ("n", "p"),
        {"n": 6, "p": 5},
        base="n",
        reasons=codes,
        min_cases=K,
    )

    found = table_intervals(table)

    assert (found[(2, "p")].low, found[(2, "p")].high) == (2, 2)
    assert found[(2, "p")].pinned
    assert not found[(0, "n")].pinned
    # Without the totals' difference (the proven total withheld), it is 1 or 2 again.
    open_ = table_intervals(
        Published(
            REVIEWED, hidden, ("n", "p"), ("n", "p"), {"n": 6}, base="n", reasons=codes, min_cases=K
        )
    )
    assert (open_[(2, "p")].low, open_[(2, "p")].high) == (1, 2)


def test_an_unknown_value_leaves_its_column_unsummed_and_figures_that_disagree_stop() -> None:
    # A value withheld by another table is unknown here: its column adds up to nothing known.
    rows: list[dict[str, Any]] = [{"n": None, "p": None}, {"n": 4, "p": None}]
    unknown = Published(rows, [{"n", "p"}, {"p"}], ("n", "p"), ("n", "p"), {"p": 3})

    found = table_intervals(unknown)

    assert (found[(0, "n")].low, found[(0, "n")].high) == (0, float("inf"))
    assert (found[(1, "p")].low, found[(1, "p")].high) == (0, 3)
    # Shown figures that no table agrees with (a total below a shown cell) end pinned, not
    # in a loop: the rule then withholds more, never less.
    wrong = Published([{"n": 5, "p": None}], [{"p"}], ("n", "p"), ("n", "p"), {"n": 5, "p": 7})
    assert table_intervals(wrong)[(0, "p")].pinned


@st.composite
def chained_tables(
    draw: st.DrawFn,
) -> tuple[list[dict[str, Any]], tuple[str, ...], dict[str, int] | None]:
    """Two to four rows of two or three chained counts, and maybe a cost for each total."""
    columns = ("n", "p", "r")[: draw(st.integers(2, 3))]
    rows = []
    for index in range(draw(st.integers(2, 4))):
        values = sorted(
            draw(st.lists(st.integers(0, 6), min_size=len(columns), max_size=len(columns))),
            reverse=True,
        )
        values[0] = max(values[0], 1)  # a row is listed only for a case
        rows.append({"name": str(index), **dict(zip(columns, values, strict=True))})
    costs = draw(st.none() | st.fixed_dictionaries({c: st.integers(0, 7) for c in columns}))
    return rows, columns, costs


@settings(max_examples=400, deadline=None)
@given(chained_tables())
def test_no_withheld_count_is_known_from_the_whole_table(
    drawn: tuple[list[dict[str, Any]], tuple[str, ...], dict[str, int] | None],
) -> None:
    truth, columns, costs = drawn

    rows, totals = published_after(truth, columns, costs)

    assert_nothing_given_away(truth, rows, columns, totals)
    # Shown values are the truth; withheld ones are listed with a code.
    for row, real in zip(rows, truth, strict=True):
        assert {c for c in columns if row[c] is None} == set(withheld(row))
        assert all(row[c] == real[c] for c in columns if row[c] is not None)


def test_a_row_withheld_for_its_number_of_cases_is_read_whole_in_every_order() -> None:
    # Two elections of one case beside one of four, every case sanctioned (the front page):
    # the large one's number of cases goes for the small ones, and its counts with it. Read
    # half-way (its counts still shown), the number was pinned at 4 and the totals went too,
    # in two orders of the rows out of three.
    columns = ("n", "p", "r", "s", "t")
    for order in ((1, 1, 4), (4, 1, 1), (1, 4, 1)):
        truth = [{"name": str(at), **dict.fromkeys(columns, size)} for at, size in enumerate(order)]
        costs = dict.fromkeys(columns, 3) | {"n": 8}

        rows, totals = published_after(truth, columns, costs)

        assert totals == dict.fromkeys(columns, 6), order
        assert all(withheld(row) == sorted(columns) for row in rows), order
        assert_nothing_given_away(truth, rows, columns, totals)
