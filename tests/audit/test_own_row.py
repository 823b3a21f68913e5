"""A PPK's view of the dashboard: its own follow-up row unwithheld, everything else the public's.

The store is written through the real store code and read back as the dashboard reads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.figures.facts import Projection, read_facts
from streams.audit.figures.filters import Filters
from streams.audit.figures.own_row import OWN_ROW, VISIBLE_ONLY_TO, own_row, with_own_follow_up
from streams.audit.figures.view import figures
from streams.audit.suppression import withheld
from streams.domain.calendar import load_calendar
from tests.audit.test_public_views import trail
from tests.entrytools import signed_rows
from tests.storetools import open_store

K = 3


@pytest.fixture(scope="module")
def projection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Projection]:
    """ppk.3374: 2 recommended, 1 followed up; ppk.3301: 1 recommended; ppk.7371: 3 of 3.

    ppk.5171 (2 of 2) and ppk.1101 (0 of 1) make the withheld rows hold K followed up and K
    not followed up together, so the totals less ppk.7371's row tell no small number.
    """
    store = open_store("sqlite", tmp_path_factory.mktemp("own_row"), None)
    codec = AvroCodec(default_catalog())
    trails = [
        trail("ppk.3374", recommended=True, followed_up=True),
        trail("ppk.3374", recommended=True),
        trail("ppk.3301", recommended=True),
        *(trail("ppk.7371", recommended=True, followed_up=True) for _ in range(3)),
        *(trail("ppk.9471") for _ in range(3)),
        *(trail("ppk.5171", recommended=True, followed_up=True) for _ in range(2)),
        trail("ppk.1101", recommended=True),
    ]
    for events in trails:
        store.insert(signed_rows(codec, events))
    try:
        yield read_facts(store, codec)
    finally:
        store.close()


def public(projection: Projection, filters: Filters | None = None) -> dict[str, Any]:
    return figures(projection, load_calendar(None), {}, filters or Filters(), min_cases=K)


def as_public(view: dict[str, Any], public_view: dict[str, Any]) -> str:
    """``view`` with its own row put back as the public has it and its marker taken off."""
    back = {key: value for key, value in view.items() if key != OWN_ROW}
    back["follow_up"] = [
        public_row if VISIBLE_ONLY_TO in row else row
        for row, public_row in zip(view["follow_up"], public_view["follow_up"], strict=True)
    ]
    return json.dumps(back)


@pytest.mark.parametrize(
    ("agency", "real"),
    [
        ("ppk.3374", {"recommended": 2, "followed_up": 1, "not_followed_up": 1, "rate": 0.5}),
        ("ppk.3301", {"recommended": 1, "followed_up": 0, "not_followed_up": 1, "rate": 0.0}),
    ],
)
def test_a_ppk_sees_its_own_withheld_row_and_nothing_else_changes(
    projection: Projection, agency: str, real: dict[str, Any]
) -> None:
    shown = public(projection)
    before = json.dumps(shown)

    view = with_own_follow_up(shown, projection, Filters(), agency)

    row = own_row(view)
    assert row is not None
    assert row == {
        "agency": agency,
        "recommended": real["recommended"],
        "followed_up": real["followed_up"],
        "not_followed_up": real["not_followed_up"],
        # Neither's deadline was recorded breached: both still pending.
        "pending": real["not_followed_up"],
        "overdue": 0,
        "closed_without_follow_up": 0,
        "follow_up_rate": real["rate"],
        VISIBLE_ONLY_TO: agency,
    }
    assert [r["agency"] for r in view["follow_up"]] == [r["agency"] for r in shown["follow_up"]]
    assert view[OWN_ROW]["agency"] == agency
    assert agency in view[OWN_ROW]["note"]["id"]
    assert agency in view[OWN_ROW]["note"]["en"]
    assert as_public(view, shown) == before
    assert json.dumps(shown) == before  # the public view is left as it was


def test_every_other_row_stays_withheld_in_a_ppks_view(projection: Projection) -> None:
    view = with_own_follow_up(public(projection), projection, Filters(), "ppk.3374")

    others = [row for row in view["follow_up"] if row["agency"] != "ppk.3374"]

    assert withheld(next(row for row in others if row["agency"] == "ppk.3301"))
    assert not [row for row in others if VISIBLE_ONLY_TO in row]


@pytest.mark.parametrize(
    ("agency", "filters", "why"),
    [
        ("ppk.7371", Filters(), "its row is shown to everyone"),
        ("ppk.9471", Filters(), "it has no recommendation"),
        ("ppk.3374", Filters(agency="ppk.3301"), "its cases are not chosen"),
        ("ppk.3374", Filters(agency="ppk.3374"), "fewer than K cases: no agency is named"),
    ],
)
def test_a_ppk_without_a_withheld_row_of_its_own_gets_the_public_view(
    projection: Projection, agency: str, filters: Filters, why: str
) -> None:
    shown = public(projection, filters)

    assert with_own_follow_up(shown, projection, filters, agency) is shown, why
    assert own_row(shown) is None
