"""The secondary rule withholds the cell whose loss costs the least, and still gives nothing away.

The demo's elections (a large one beside two tiny ones) once lost the large election's figures
to the secondary rule; a cost that counts what a choice takes with it (a whole row, the last
shown cell of a column, a cell in each other grouping of a total) keeps them where a cheaper
choice exists. The property test brackets every withheld cell, column by column, by brute force
over what a reader is told: the total, the shown cells, the reason codes and the rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.audit.complement_cost import TOTAL, cheapest
from streams.audit.figures.facts import CaseFacts, Projection, note
from streams.audit.figures.public_views import front_page_stats
from streams.audit.suppression import (
    SMALL_COUNT,
    SMALL_GROUP,
    TableRule,
    protect_table,
    reasons,
    withheld,
)
from streams.local.demo import demo_report, demo_waves
from streams.local.demo_mix import mix_waves

K = 3
RULE = TableRule(base="n", counts=("n", "yes"), additive=("n", "yes"), chain=("n", "yes"))
COLUMNS = ("n", "yes")


def table(*values: tuple[str, int, int]) -> list[dict[str, Any]]:
    return [{"name": name, "n": n, "yes": yes} for name, n, yes in values]


def test_the_demo_shape_withholds_the_total_rather_than_the_large_election() -> None:
    # Two tiny elections beside a large one: 32 - 30 = 2 would give both back together.
    # The large election's number of cases takes its whole row; the total's takes the totals
    # row too, but leaves a number of cases in the table. Before, the large row went.
    rows = table(("pemilu-2024", 1, 1), ("pilkada-2024", 30, 18), ("pilkada-2026", 1, 0))

    needed = protect_table(rows, RULE, K, total_costs={"n": 2, "yes": 1})

    assert withheld(rows[1]) == []
    assert (rows[1]["n"], rows[1]["yes"]) == (30, 18)
    assert needed == {"n", "yes"}
    assert [withheld(rows[0]), withheld(rows[2])] == [["n", "yes"], ["n", "yes"]]


def test_a_total_dearer_than_the_large_row_leaves_the_choice_as_before() -> None:
    rows = table(("pemilu-2024", 1, 1), ("pilkada-2024", 30, 18), ("pilkada-2026", 1, 0))

    # The total's number of cases would take a cell of two other groupings with it.
    needed = protect_table(rows, RULE, K, total_costs={"n": 4, "yes": 3})

    assert withheld(rows[1]) == ["n", "yes"]
    assert needed == set()


def test_every_choice_has_a_cost_and_the_cheapest_is_taken() -> None:
    # a's one case needs a second cell of n withheld. b's n (4) costs only itself: its "yes"
    # of 2 is withheld already; c's n (3) is smaller but takes c's shown "yes" with it; the
    # total costs 5. Before, the smallest value (c) went. Then "yes" (a's 0 and b's 2 hold 2):
    # c's and d's cost one cell each, and c's 3 is the smaller.
    rows = table(("a", 1, 0), ("b", 4, 2), ("c", 3, 3), ("d", 9, 4))

    needed = protect_table(rows, RULE, K, total_costs={"n": 5, "yes": 5})

    assert [withheld(row) for row in rows] == [["n", "yes"], ["n", "yes"], ["yes"], []]
    assert reasons(rows[1]) == {"n": "complementary", "yes": "small_count"}
    assert needed == set()


def test_the_cheapest_of_cells_and_total_by_cells_then_last_then_value() -> None:
    rows = table(("a", 1, 1), ("b", 6, 3), ("c", 5, 4))
    hidden = [{"n", "yes"}, set(), set()]
    losses = {(1, "n"): 1, (2, "n"): 2, (1, "yes"): 1, (2, "yes"): 1}

    def loss(index: int, column: str) -> int:
        return losses[(index, column)]

    # Fewer cells lost first, whatever the value.
    assert cheapest(rows, hidden, "n", loss, total_cost=3) == 1
    # A tie in cells goes to the smaller value; the total, of the same cost, is dearest.
    assert cheapest(rows, hidden, "yes", loss, total_cost=1) == 1
    assert cheapest(rows, hidden, "yes", loss, total_cost=0) is TOTAL
    # The last shown non-zero cell of a column costs more than a total of the same cells.
    assert cheapest(rows, [{"n", "yes"}, {"yes"}, set()], "yes", loss, total_cost=1) is TOTAL
    # Without the total's cost, the total goes only where no cell can.
    assert cheapest(rows, [{"n", "yes"}, {"yes"}, set()], "yes", loss) == 2
    assert cheapest(rows, [{"n", "yes"}] * 3, "yes", loss) is TOTAL


def demo_projection(live: int) -> Projection:
    """The demo's history and ``live`` reports of Bawaslu's officers (``pilkada-<year>``)."""
    cases: dict[str, CaseFacts] = {}
    at = datetime(2026, 12, 7, 3, tzinfo=UTC)
    lives = []
    for number in range(live):
        report = demo_report(
            "bawaslu.33", f"LIVE/{number}", at + timedelta(minutes=number), "ETHICS_BANNER", "3374"
        )
        lives.append(("ReportReceived", report | {"election": "pilkada-2026"}))
    for wave in [*demo_waves(), *mix_waves(), lives]:
        for _event_type, record in wave:
            case_id = record["envelope"]["case_id"]
            note(cases.setdefault(case_id, CaseFacts(case_id=case_id)), record)
    return Projection(list(cases.values()), 0, at)


def test_the_demo_publishes_the_large_elections_counts_and_gives_nothing_away() -> None:
    front = front_page_stats(demo_projection(live=2), K)

    rows = {row["election"]: row for row in front["by_election"]}
    large = rows["pilkada-2024"]
    # Before, only its reported (30) was shown: proven and recommended went with the tiny ones.
    assert (large["reported"], large["proven"], large["recommended"]) == (30, 17, 14)
    for key, attribute in (("by_election", "election"), ("by_region", "region")):
        for column in ("reported", "proven", "recommended", "followed_up", "sanctioned"):
            cells = [row for row in front[key] if column in withheld(row)]
            total = front["totals"][column]
            if total is None:
                assert cells, (key, column)
                continue
            kept = total - sum(row[column] for row in front[key] if row not in cells)
            assert len(cells) != 1, (key, column, cells)
            assert kept == 0 or kept >= K, (key, attribute, column, kept)


@st.composite
def small_tables(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Two to four rows of n cases with ``yes`` among them, and a cost for each total."""
    rows = []
    for index in range(draw(st.integers(2, 4))):
        n = draw(st.integers(1, 6))
        rows.append({"name": str(index), "n": n, "yes": draw(st.integers(0, n))})
    costs = {column: draw(st.integers(0, 7)) for column in COLUMNS}
    return rows, costs


def told(row: dict[str, Any], column: str) -> range:
    """What a reader holds possible for a withheld cell from its row alone.

    A row is listed only for a case; a small group's number of cases and a small count are 1 to
    K-1 (their codes say so), a small group's counts at most that; a shown ``n`` bounds ``yes``
    from above and a shown ``yes`` bounds ``n`` from below.
    """
    because = reasons(row)
    low = 1 if column == "n" or because.get(column) == SMALL_COUNT else 0
    high = K - 1 if because.get(column) in (SMALL_GROUP, SMALL_COUNT) else 12
    if column == "yes" and row["n"] is not None:
        high = min(high, row["n"])
    if column == "n" and row["yes"] is not None:
        low = max(low, row["yes"])
    return range(low, high + 1)


@settings(max_examples=300, deadline=None)
@given(small_tables())
def test_nothing_withheld_is_bounded_tighter_than_the_rule_allows(
    drawn: tuple[list[dict[str, Any]], dict[str, int]],
) -> None:
    """Column by column, as the rule reads a table: its total, its shown cells, their rows."""
    rows, costs = drawn
    truth = [dict(row) for row in rows]

    needed = protect_table(rows, RULE, K, total_costs=costs)

    for column in COLUMNS:
        cells = [index for index, row in enumerate(rows) if row[column] is None]
        total = None if column in needed else sum(row[column] for row in truth)
        if total is None:
            # A withheld total: at least one cell hides it, or the shown ones would add up.
            assert cells, (truth, rows, column)
            continue
        left = total - sum(row[column] for row in rows if row[column] is not None)
        possible: dict[int, set[int]] = {index: set() for index in cells}
        for guess in product(*(told(rows[index], column) for index in cells)):
            if sum(guess) == left:
                for index, value in zip(cells, guess, strict=True):
                    possible[index].add(value)
        # The withheld cells, known together, hold none or K or more.
        assert left == 0 or left >= K, (truth, rows, needed, column)
        for index, values in possible.items():
            assert truth[index][column] in values
            # Pinned at 0 only: a zero identifies nobody.
            assert len(values) > 1 or values == {0}, (truth, rows, needed, index, column, values)
