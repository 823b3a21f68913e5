"""The suppression rule: nothing from fewer than K cases, no withheld cell found by subtraction."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.figures.filters import Filters
from streams.audit.figures.small_groups import protect_figures
from streams.audit.figures.view import dashboard_view
from streams.audit.store import AuditStore
from streams.audit.suppression import (
    TableRule,
    protect_table,
    reasons,
    share_withheld,
    withheld,
)
from streams.cli import main
from streams.domain.calendar import load_calendar
from streams.settings import Settings
from tests.dashboard_mix import generate, write

RULE = TableRule(base="n", counts=("n", "yes"), additive=("n", "yes"))


def table(*values: tuple[str, int, int]) -> list[dict[str, Any]]:
    return [{"name": name, "n": n, "yes": yes} for name, n, yes in values]


def test_a_group_of_k_shows_and_one_of_k_minus_1_shows_nothing() -> None:
    rows = table(("a", 3, 0), ("b", 2, 0), ("c", 1, 1))

    totals = protect_table(rows, RULE, 3)

    assert rows[0] == {"name": "a", "n": 3, "yes": 0}
    # Below K, even the zero goes: it would tell that neither case was a "yes".
    small = {"n": "small_group", "yes": "small_group"}
    assert rows[1] == {
        "name": "b",
        "n": None,
        "yes": None,
        "withheld": ["n", "yes"],
        "withheld_because": small,
    }
    assert rows[2] == {
        "name": "c",
        "n": None,
        "yes": None,
        "withheld": ["n", "yes"],
        "withheld_because": small,
    }
    # The total of "yes" (1) less a's 0 would tell that b and c hold one "yes" together.
    assert totals == {"yes"}


def test_small_groups_whose_sum_tells_each_of_them_take_a_shown_cell_with_them() -> None:
    # Two small groups hold 1 or 2 cases each (their code says so): 7 - 3 = 4 would make each 2.
    rows = table(("a", 3, 0), ("b", 2, 0), ("c", 2, 1))

    totals = protect_table(rows, RULE, 3)

    assert [withheld(row) for row in rows] == [["n", "yes"], ["n", "yes"], ["n", "yes"]]
    assert rows[0]["withheld_because"] == {"n": "complementary", "yes": "complementary"}
    assert totals == {"yes"}


def test_groups_of_one_case_whose_sum_tells_each_take_a_shown_cell_with_them() -> None:
    # A row is listed only for a case: 13 - 10 = 3 would make each of the three 1 case.
    rows = table(("a", 1, 0), ("b", 1, 0), ("c", 1, 0), ("d", 10, 3))

    protect_table(rows, RULE, 3)

    assert rows[3]["n"] is None
    assert reasons(rows[3])["n"] == "complementary"


def test_withheld_cells_that_add_up_to_fewer_than_k_take_a_shown_one_with_them() -> None:
    # Two elections of one case each beside a large one: 48 - 46 = 2 reported and 20 - 18 = 2
    # proven would tell that each of the two cases was proven.
    rows = table(("pemilu", 1, 1), ("pilkada", 46, 18), ("other", 1, 1))

    totals = protect_table(rows, RULE, 3)

    assert [withheld(row) for row in rows] == [["n", "yes"], ["n", "yes"], ["n", "yes"]]
    assert totals == set()


def test_withheld_cells_that_add_up_to_k_keep_the_others_shown() -> None:
    rows = table(("a", 2, 0), ("b", 40, 18), ("c", 1, 0), ("d", 2, 0))

    totals = protect_table(rows, RULE, 3)

    assert [row["n"] for row in rows] == [None, 40, None, None]
    assert [row["yes"] for row in rows] == [None, 18, None, None]
    assert totals == set()


def test_a_lone_withheld_cell_takes_the_smallest_shown_one_with_it() -> None:
    rows = table(("a", 9, 3), ("b", 4, 4), ("c", 1, 1), ("d", 6, 0))

    totals = protect_table(rows, RULE, 3)

    # Total n = 20: 20 - 9 - 6 = 5 is b and c together, not c alone; total yes = 8: 8 - 0 = 8
    # is a, b and c together.
    assert [row["n"] for row in rows] == [9, None, None, 6]
    assert [row["yes"] for row in rows] == [None, None, None, 0]
    assert totals == set()


def test_a_shown_count_does_not_give_back_a_withheld_base() -> None:
    # b's n is withheld with c's; were b's yes (4) shown, b's n would be at least 4, and
    # 20 - 9 - 6 = 5 = b + c would make c exactly 1.
    rows = table(("a", 9, 3), ("b", 4, 4), ("c", 1, 1), ("d", 6, 0))

    protect_table(rows, RULE, 3)

    total = 20
    for row in rows:
        if "n" in withheld(row):
            others = sum(other["n"] or 0 for other in rows if other is not row)
            lower = row["yes"] or 1
            upper = total - others - sum(1 for other in rows if other["n"] is None) + 1
            assert lower < upper, row


def test_without_another_cell_to_withhold_the_total_goes() -> None:
    rows = table(("a", 9, 0), ("b", 4, 0), ("c", 5, 1))

    totals = protect_table(rows, RULE, 3)

    assert rows[2]["yes"] is None
    assert totals == {"yes"}


def test_a_withheld_zero_that_another_table_tells_hides_nothing() -> None:
    rows = table(("a", 9, 4), ("b", 4, 2), ("c", 2, 0))

    # c's "yes" (0) is withheld with its n; were it told elsewhere, b's 2 would be 6 - 4.
    assert protect_table(table(("a", 9, 4), ("b", 4, 2), ("c", 2, 0)), RULE, 3) == set()
    protect_table(rows, RULE, 3, known_zero=[set(), set(), {"yes"}])

    assert [row["yes"] for row in rows] == [None, None, None]


def test_a_total_stays_when_a_linked_row_withholds_another_cell_of_its_column() -> None:
    rule = TableRule(base="n", counts=("n", "yes", "no"), linked=True, additive=("n", "yes", "no"))
    # a's "no" of 1 withholds row a; b's n goes with a's; linked, b's "no" (4) goes too, so the
    # "no" column has two withheld cells holding 5, and its total need not go.
    rows = [{"name": "a", "n": 3, "yes": 2, "no": 1}, {"name": "b", "n": 9, "yes": 5, "no": 4}]

    totals = protect_table(rows, rule, 3)

    assert [withheld(row) for row in rows] == [["n", "no", "yes"], ["n", "no", "yes"]]
    assert totals == set()


def test_a_total_goes_when_the_withheld_cells_of_its_column_hold_fewer_than_k() -> None:
    rule = TableRule(base="n", counts=("n", "yes", "no"), linked=True, additive=("n", "yes", "no"))
    # As above, but b's "no" is 0: the total "no" of 1 would tell that a and b hold one.
    rows = [{"name": "a", "n": 3, "yes": 2, "no": 1}, {"name": "b", "n": 3, "yes": 3, "no": 0}]

    totals = protect_table(rows, rule, 3)

    assert [withheld(row) for row in rows] == [["n", "no", "yes"], ["n", "no", "yes"]]
    assert totals == {"no"}


@pytest.fixture
def one_small_agency(store: AuditStore) -> AuditStore:
    """The generated mix's cases of two agencies, and exactly one case of a third."""
    cases = generate(seed=16, count=90)
    agency = [events[0]["employing_agency"] for events in cases]
    chosen = [case for case, of in zip(cases, agency, strict=True) if of != "ppk.7371"]
    chosen.append(next(case for case, of in zip(cases, agency, strict=True) if of == "ppk.7371"))
    write(store, AvroCodec(default_catalog()), chosen)
    return store


def test_the_subtraction_attack_on_a_table_with_one_small_row_fails(
    one_small_agency: AuditStore,
) -> None:
    codec = AvroCodec(default_catalog())
    view = dashboard_view(one_small_agency, codec, load_calendar(), {}, Filters(), min_cases=3)

    rows = view["violation_ratio"]
    small = next(row for row in rows if row["agency"] == "ppk.7371")
    assert small["reported"] is None
    assert view["counts"]["received"] is not None
    # The published total less every published row is more than the one small row.
    hidden = [row for row in rows if "reported" in withheld(row)]
    left = view["counts"]["received"] - sum(row["reported"] for row in rows if row not in hidden)
    assert len(hidden) >= 2
    assert left >= 3
    for figure, total_of in (
        ("violation_ratio", {"reported": "received", "proven": "proven"}),
        ("follow_up", {"recommended": "recommended", "followed_up": "followed_up"}),
    ):
        for column, total in total_of.items():
            withheld_cells = [row for row in view[figure] if column in withheld(row)]
            assert len(withheld_cells) != 1 or view["counts"][total] is None, (figure, column)
    # Without a date range an agency's proven cases are in both tables: withheld in both alike.
    proven = {row["agency"]: row["proven"] for row in rows}
    for row in view["catatan_merah"]:
        assert row["proven"] == proven[row["agency"]], row
    if "followed_up" in withheld(view["counts"]):
        assert view["handling_times"][-1]["cases"] is None


def test_rows_of_the_same_cases_in_two_tables_are_withheld_alike() -> None:
    regions = table(("33", 5, 0), ("35", 4, 0), ("36", 4, 0), ("51", 1, 0))
    agencies = table(("ppk.33", 5, 0), ("ppk.35", 4, 0), ("ppk.36", 4, 0), ("ppk.51", 1, 0))
    # The same cases in another order: alone, each table would withhold another 4 with the 1,
    # and each would publish the other's: 14 - 5 - 4 - 4 = 1.
    agencies.reverse()
    twins = list(zip(regions, reversed(agencies), strict=True))

    again = True
    while again:
        protect_table(regions, RULE, 3)
        protect_table(agencies, RULE, 3)
        again = share_withheld(twins, {"n", "yes"})

    for region, agency in twins:
        assert (region["n"], region["yes"]) == (agency["n"], agency["yes"])
    assert [row["n"] for row in regions] == [5, None, None, None]


def test_kawal_refuses_k_below_2_with_what_to_give(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValidationError, match="KAWAL_STATS_MIN_CASES must be at least 2"):
        Settings(stats_min_cases=1)
    assert Settings(stats_min_cases=2).stats_min_cases == 2
    assert Settings().stats_min_cases == 3
    monkeypatch.setenv("KAWAL_STATS_MIN_CASES", "0")

    assert main(["stats", "--format", "json"]) == 1
    refused = capsys.readouterr().err
    assert "kawal: KAWAL_STATS_MIN_CASES must be at least 2" in refused
    assert "Value error" not in refused
    assert "Traceback" not in refused


def test_a_stage_withheld_with_its_twin_count_shows_no_provisional_nor_time() -> None:
    # One PPK with 10 recommendations, 2 not followed up: its row goes, with nothing else in
    # its columns, so the counts' recommended and followed up go, and the stages' cases with
    # them. Every time ran through a year without holiday data: provisional = cases = 8.
    stages = ("registration", "verification", "recommendation", "follow_up", "end_to_end")
    cases = {"registration": 20, "verification": 20, "recommendation": 10}
    figures = {
        "counts": {
            "received": 20, "proven": 10, "recommended": 10, "followed_up": 8, "sanctioned": 8,
        },
        "handling_times": [
            {
                "stage": stage, "from": "", "to": "", "cases": cases.get(stage, 8),
                "median_working_days": 4.0, "p90_working_days": 9,
                "provisional": cases.get(stage, 8),
            }
            for stage in stages
        ],
        "violation_ratio": [],
        "follow_up": [
            {
                "agency": "ppk.3374", "recommended": 10, "followed_up": 8, "not_followed_up": 2,
                "pending": 2, "overdue": 0, "closed_without_follow_up": 0, "follow_up_rate": 0.8,
            }
        ],
        "catatan_merah": [],
    }  # fmt: skip

    found = protect_figures(figures, Filters(), 3)

    assert found["counts"]["followed_up"] is None
    for row in found["handling_times"][3:]:
        assert row["cases"] is None, row
        assert row["provisional"] is None, row
        # A median shown (or None) would tell whether any case was followed up.
        assert (row["median_working_days"], row["p90_working_days"]) == (None, None), row
    assert found["handling_times"][0]["cases"] == 20


def test_counts_withheld_whole_withhold_every_stage_they_bound() -> None:
    # The front page withholds the region's counts; a stage's cases shown would tell that at
    # least that many were received, and its median that some of them got that far.
    figures = {
        "counts": {
            "received": 3, "proven": 3, "recommended": 3, "followed_up": 3, "sanctioned": 3,
        },
        "handling_times": [
            {
                "stage": stage, "from": "", "to": "", "cases": 3,
                "median_working_days": 0.0, "p90_working_days": 0, "provisional": 0,
            }
            for stage in ("registration", "verification", "recommendation", "follow_up",
                          "end_to_end")
        ],
        "violation_ratio": [], "follow_up": [], "catatan_merah": [],
    }  # fmt: skip
    every_count = {"received", "proven", "recommended", "followed_up", "sanctioned"}

    found = protect_figures(figures, Filters(), 3, seeds={("counts", ""): every_count})

    assert set(withheld(found["counts"])) == every_count
    for row in found["handling_times"]:
        assert set(withheld(row)) == {
            "cases", "provisional", "median_working_days", "p90_working_days",
        }, row  # fmt: skip


def test_a_withheld_total_takes_the_smallest_non_zero_cell_with_it() -> None:
    # Withheld by another rule, the total would be the sum of the cells, all shown.
    rows = table(("a", 76, 26), ("b", 5, 0), ("c", 4, 2), ("d", 0, 0))

    totals = protect_table(rows, RULE, 3, totals_withheld={"n", "yes"})

    assert [row["n"] for row in rows] == [76, 5, None, 0]
    assert [row["yes"] for row in rows] == [26, 0, None, 0]
    assert totals == set()


def test_a_withheld_total_of_zeros_takes_nothing() -> None:
    rows = table(("a", 0, 0), ("b", 0, 0))

    assert protect_table(rows, RULE, 3, totals_withheld={"n", "yes"}) == {"n", "yes"}
    assert [withheld(row) for row in rows] == [[], []]


def test_counts_the_front_page_withholds_are_not_the_sum_of_the_agencies_rows() -> None:
    """An election whose counts go for the front page's sake (rule 4), its agencies shown.

    Before, the agencies' reported and proven added up to the withheld received and proven:
    with the unfiltered counts, they told the cases of the other, withheld elections.
    """
    figures = {
        "counts": {
            "received": 90, "proven": 26, "recommended": 0, "followed_up": 0, "sanctioned": 0,
        },
        "handling_times": [],
        "violation_ratio": [
            {"agency": agency, "reported": reported, "proven": proven, "proven_per_1000": 0.0}
            for agency, reported, proven in (
                ("ppk.3374", 76, 26), ("ppk.3301", 5, 0), ("ppk.5171", 5, 0), ("ppk.7371", 4, 0)
            )
        ],
        "follow_up": [],
        "catatan_merah": [],
    }  # fmt: skip
    seeds = {("counts", ""): {"received", "proven", "recommended", "followed_up", "sanctioned"}}

    found = protect_figures(figures, Filters(), 3, seeds)

    rows = found["violation_ratio"]
    assert all(found["counts"][column] is None for column in ("received", "proven"))
    assert sum(row["reported"] is None for row in rows) >= 1
    assert sum(row["proven"] is None for row in rows) >= 1
