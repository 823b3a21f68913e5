"""The front page's statistics and the dashboard withhold alike what they count of the same cases.

Each view is safe on its own; read together, a value one withholds must not be the total less
what the other shows. The store is written through the real store code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.figures.command import stats_view
from streams.audit.figures.filters import Filters
from streams.audit.figures.view import dashboard_view
from streams.audit.store import AuditStore
from streams.audit.suppression import withheld
from streams.domain.calendar import load_calendar
from tests.entrytools import signed_rows
from tests.hubtools import recommendation, referral, registration, report, sanction, verification
from tests.storetools import open_store

K = 3
#: Front page column -> (dashboard figure listing every agency with such a case, its column).
SAME_COUNTS = {
    "reported": ("violation_ratio", "reported"),
    "proven": ("violation_ratio", "proven"),
    "recommended": ("follow_up", "recommended"),
    "followed_up": ("follow_up", "followed_up"),
}
#: Dashboard figure -> the front page's columns it lists every agency with a case of.
LISTS_EVERY = {
    "violation_ratio": "reported",
    "follow_up": "recommended",
    "catatan_merah": "proven",
}


def trail(agency: str, *, recommended: bool = False, followed_up: bool = False) -> list[Any]:
    """One case of ``agency``'s civil servant: reported and registered, perhaps further."""
    opened = report() | {"employing_agency": agency, "region_code": agency.removeprefix("ppk.")}
    case_id = opened["envelope"]["case_id"]
    events = [opened, registration(case_id)]
    if recommended:
        events += [verification(case_id), referral(case_id), recommendation(case_id)]
    if followed_up:
        events.append(sanction(case_id))
    return events


@pytest.fixture
def leaking_store(tmp_path: Path) -> Any:
    """ppk.3374 followed up its 3 recommendations; ppk.3301 2 of its 3: its 1 is withheld."""
    store = open_store("sqlite", tmp_path, None)
    codec = AvroCodec(default_catalog())
    trails = [trail("ppk.3374", recommended=True, followed_up=True) for _ in range(3)]
    trails += [trail("ppk.3301", recommended=True, followed_up=True) for _ in range(2)]
    trails.append(trail("ppk.3301", recommended=True))
    trails += [trail(agency) for agency in ["ppk.3374"] * 2 + ["ppk.3301"] * 2]
    trails += [trail(agency) for agency in ["ppk.7371"] * 4 + ["ppk.9471"] * 2]
    for events in trails:
        store.insert(signed_rows(codec, events))
    yield store
    store.close()


def both_views(store: AuditStore) -> tuple[dict[str, Any], dict[str, Any]]:
    codec = AvroCodec(default_catalog())
    front = stats_view(store, codec, min_cases=K)
    dashboard = dashboard_view(store, codec, load_calendar(None), {}, Filters(), min_cases=K)
    return front, dashboard


def known_cells(
    front: dict[str, Any], dashboard: dict[str, Any], column: str
) -> dict[str, int | None]:
    """Each agency's ``column`` as a reader of both views knows it (None: unknown)."""
    known: dict[str, int | None] = {}
    figure, theirs = SAME_COUNTS[column]
    listed = {row["agency"]: row for row in dashboard[figure]}
    for row in front["by_institution"]:
        agency = row["institution"]
        other = listed.get(agency, {})
        known[agency] = row[column] if row[column] is not None else other.get(theirs)
        if agency not in listed and LISTS_EVERY.get(figure) == column:
            known[agency] = 0  # the dashboard lists every agency with such a case
    if column == "proven":
        red = {row["agency"] for row in dashboard["catatan_merah"]}
        known |= {agency: 0 for agency in known if agency not in red}
    return known


def test_no_sanction_count_is_the_total_less_the_agencies_known_to_have_none(
    leaking_store: AuditStore,
) -> None:
    # An agency missing from the follow-up rate has no recommendation, so no sanction after
    # one: its withheld cell hides nothing, and ppk.3301's 2 must not be the total less 3374's.
    front, dashboard = both_views(leaking_store)
    recommending = {row["agency"] for row in dashboard["follow_up"]}

    known = {
        row["institution"]: row["sanctioned"] if row["institution"] in recommending else 0
        for row in front["by_institution"]
    }

    unknown = [agency for agency, value in known.items() if value is None]
    assert front["totals"]["sanctioned"] is None or len(unknown) != 1, known


def derivable(front: dict[str, Any], dashboard: dict[str, Any], column: str) -> dict[str, int]:
    """The agencies whose withheld ``column`` is the total less the cells known."""
    total = front["totals"][column]
    if total is None:
        total = dashboard["counts"]["received" if column == "reported" else column]
    known = known_cells(front, dashboard, column)
    unknown = [agency for agency, value in known.items() if value is None]
    if total is None or len(unknown) != 1:
        return {}
    return {unknown[0]: total - sum(value or 0 for value in known.values())}


def test_the_reviewed_store_is_the_leaking_one(leaking_store: AuditStore) -> None:
    front, dashboard = both_views(leaking_store)

    # Each view on its own withholds ppk.3301's follow-up: 1 not followed up.
    assert front["totals"]["recommended"] == 6
    # 6 less 5 followed up would tell that one recommendation went without: withheld.
    assert front["totals"]["followed_up"] is None
    assert [row["agency"] for row in dashboard["follow_up"]] == ["ppk.3301", "ppk.3374"]
    assert "recommended" in withheld(by_agency(front, "ppk.3301"))


def test_no_count_withheld_in_one_view_is_derived_from_the_other(
    leaking_store: AuditStore,
) -> None:
    front, dashboard = both_views(leaking_store)

    for column in SAME_COUNTS:
        assert derivable(front, dashboard, column) == {}, column


def test_an_agencys_counts_are_withheld_alike_in_both_views(leaking_store: AuditStore) -> None:
    front, dashboard = both_views(leaking_store)

    for column, (figure, theirs) in SAME_COUNTS.items():
        for row in dashboard[figure]:
            ours = by_agency(front, row["agency"])
            assert (column in withheld(ours)) == (theirs in withheld(row)), (column, row)
    for row in dashboard["catatan_merah"]:
        ours = by_agency(front, row["agency"])
        assert ("proven" in withheld(ours)) == ("proven" in withheld(row)), row
    for column in ("proven", "recommended", "followed_up", "sanctioned"):
        assert (front["totals"][column] is None) == (dashboard["counts"][column] is None)


def test_the_dashboard_of_one_agency_withholds_what_the_front_page_does(
    leaking_store: AuditStore,
) -> None:
    codec = AvroCodec(default_catalog())
    front = stats_view(leaking_store, codec, min_cases=K)
    calendar = load_calendar(None)

    for row in front["by_institution"]:
        agency = row["institution"]
        view = dashboard_view(
            leaking_store, codec, calendar, {}, Filters(agency=agency), min_cases=K
        )
        for column in ("proven", "recommended", "followed_up", "sanctioned"):
            if column in withheld(row):
                assert view["counts"][column] is None, (agency, column)


def by_agency(front: dict[str, Any], agency: str) -> dict[str, Any]:
    return next(row for row in front["by_institution"] if row["institution"] == agency)
