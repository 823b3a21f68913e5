"""No withheld count is pinned between the published figures that bound it.

Each count of a case is among the one before it (sanctioned among followed up, among
recommended, among proven, among received), and a filtered dashboard's count is at most the same
count of a wider one. So a reader brackets every withheld count between published figures;
where the bracket closes, the value is out. The checks here compute the brackets themselves,
from the published figures only.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.figures.counts import COUNTS
from streams.audit.figures.filters import Filters
from streams.audit.figures.view import dashboard_view
from streams.audit.store import AuditStore
from streams.audit.suppression import TableRule, protect_table, withheld
from streams.domain.calendar import load_calendar
from tests.entrytools import signed_rows
from tests.hubtools import recommendation, referral, registration, report, sanction, verification
from tests.storetools import open_store

K = 3


def trail(agency: str, *, recommended: bool = False, sanctioned: bool = False) -> list[Any]:
    """One case of ``agency``'s civil servant, reported in the agency's region."""
    opened = report() | {"employing_agency": agency, "region_code": agency.removeprefix("ppk.")}
    case_id = opened["envelope"]["case_id"]
    events = [opened, registration(case_id)]
    if recommended:
        events += [verification(case_id), referral(case_id), recommendation(case_id)]
    if sanctioned:
        events.append(sanction(case_id, agency))
    return events


@pytest.fixture
def walkthrough_store(tmp_path: Path) -> Iterator[AuditStore]:
    """After the journalist's walkthrough: province 33 holds every sanction of the store.

    ppk.3374 followed up and sanctioned its 17 recommendations, ppk.3301 none of its 2; the
    cases of two agencies outside the province were never recommended on, so the province's
    sanctioned and the store's followed up bracket the province's followed up.
    """
    store = open_store("sqlite", tmp_path, None)
    codec = AvroCodec(default_catalog())
    trails = [trail("ppk.3374", recommended=True, sanctioned=True) for _ in range(17)]
    trails += [trail("ppk.3301", recommended=True) for _ in range(2)]
    trails += [trail("ppk.3301") for _ in range(3)]
    trails += [trail("ppk.5171") for _ in range(5)] + [trail("ppk.7371") for _ in range(4)]
    for events in trails:
        store.insert(signed_rows(codec, events))
    yield store
    store.close()


def view(store: AuditStore, filters: Filters) -> dict[str, Any]:
    codec = AvroCodec(default_catalog())
    return dashboard_view(store, codec, load_calendar(None), {}, filters, min_cases=K)


def brackets(counts: dict[str, Any], wider: list[dict[str, Any]]) -> dict[str, tuple[int, float]]:
    """Each withheld count -> the least and most it can be, by the published figures alone."""
    found: dict[str, tuple[int, float]] = {}
    for at, column in enumerate(COUNTS):
        if counts[column] is not None:
            continue
        below = [counts[c] for c in COUNTS[at + 1 :] if counts[c] is not None]
        above = [counts[c] for c in COUNTS[: at + 1] if counts[c] is not None]
        above += [w[c] for w in wider for c in COUNTS[: at + 1] if w[c] is not None]
        found[column] = (max(below, default=0), min(above, default=float("inf")))
    return found


@pytest.mark.parametrize(
    ("narrow", "wider"),
    [
        (Filters(region="33"), [Filters()]),
        (Filters(region="3374"), [Filters(), Filters(region="33")]),
        (Filters(region="3301"), [Filters(), Filters(region="33")]),
        (Filters(agency="ppk.3374"), [Filters()]),
        (Filters(agency="ppk.3301"), [Filters()]),
        (Filters(election="pilkada-2024", region="33"), [Filters(), Filters(region="33")]),
    ],
)
def test_no_withheld_count_of_a_filtered_view_is_pinned(
    walkthrough_store: AuditStore, narrow: Filters, wider: list[Filters]
) -> None:
    counts = view(walkthrough_store, narrow)["counts"]
    wide = [view(walkthrough_store, filters)["counts"] for filters in wider]

    for column, (low, high) in brackets(counts, wide).items():
        # A bracket closed at 0 by a wider view's 0 is that view's own news.
        assert low < high or high == 0, (narrow, column, counts, wide)


CHAIN = ("a", "b", "c", "d")
CHAIN_RULE = TableRule(base="a", counts=CHAIN, chain=CHAIN)


@st.composite
def chained_rows(draw: st.DrawFn) -> tuple[dict[str, int], dict[str, int]]:
    """A row of counts each at most the one before, and ceilings at least the row's counts."""
    values = sorted(draw(st.lists(st.integers(0, 12), min_size=4, max_size=4)), reverse=True)
    row = dict(zip(CHAIN, values, strict=True))
    ceilings = {
        column: row[column] + draw(st.integers(0, 3)) for column in CHAIN if draw(st.booleans())
    }
    return row, ceilings


def feasible(shown: dict[str, int | None], ceilings: dict[str, int]) -> dict[str, set[int]]:
    """Every value a withheld cell can take, by brute force over the chain and the ceilings."""
    hidden = [column for column in CHAIN if shown[column] is None]
    found: dict[str, set[int]] = {column: set() for column in hidden}
    for guess in product(range(16), repeat=len(hidden)):
        full = {c: v or 0 for c, v in shown.items()} | dict(zip(hidden, guess, strict=True))
        values = [full[column] for column in CHAIN]
        if values != sorted(values, reverse=True):
            continue
        if any(full[column] > limit for column, limit in ceilings.items()):
            continue
        for column, value in zip(hidden, guess, strict=True):
            found[column].add(value)
    return found


@settings(max_examples=300, deadline=None)
@given(chained_rows(), st.sets(st.sampled_from(CHAIN[1:])))
def test_no_withheld_value_of_a_chain_is_pinned(
    drawn: tuple[dict[str, int], dict[str, int]], seeded: set[str]
) -> None:
    row, ceilings = drawn
    # Cells withheld beforehand, as another table withholds them (a twin).
    table: list[dict[str, Any]] = [dict(row, withheld=sorted(seeded)) if seeded else dict(row)]

    protect_table(table, CHAIN_RULE, K, ceilings=[ceilings])

    shown = {column: table[0][column] for column in CHAIN}
    for values in feasible(shown, ceilings).values():
        # Pinned at 0 by a ceiling of 0 only: the wider figure tells it, not this row.
        assert len(values) > 1 or values == {0}, (row, ceilings, withheld(table[0]), values)
