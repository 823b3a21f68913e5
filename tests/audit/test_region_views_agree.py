"""The front page's row of a region and the dashboard filtered to it withhold alike.

``kawal stats`` and the front page showed region 3374 with its recommended and followed up,
while ``/dashboard/figures.json?region=3374`` withheld them: its one PPK there had a single
recommendation not followed up, so the rule withheld its row, and the front page's row gave it
back (recommended less followed up). The store is written through the real store code.
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
from streams.domain.calendar import load_calendar
from tests.entrytools import signed_rows
from tests.hubtools import recommendation, referral, registration, report, sanction, verification
from tests.storetools import open_store

K = 3
COLUMNS = ("recommended", "followed_up")


def trail(region: str, *, followed_up: bool) -> list[Any]:
    """A case of ppk.3374 in ``region``, recommended, perhaps followed up."""
    opened = report() | {"employing_agency": "ppk.3374", "region_code": region}
    case_id = opened["envelope"]["case_id"]
    events = [opened, registration(case_id), verification(case_id), referral(case_id)]
    events.append(recommendation(case_id))
    return [*events, sanction(case_id)] if followed_up else events


@pytest.fixture
def store(tmp_path: Path) -> Any:
    """ppk.3374: in 3374 4 of 5 recommendations followed up, in 3301 2 of 5."""
    opened = open_store("sqlite", tmp_path, None)
    codec = AvroCodec(default_catalog())
    trails = [trail("3374", followed_up=n < 4) for n in range(5)]
    trails += [trail("3301", followed_up=n < 2) for n in range(5)]
    for events in trails:
        opened.insert(signed_rows(codec, events))
    yield opened
    opened.close()


def test_a_regions_row_withholds_what_the_dashboard_of_that_region_withholds(
    store: AuditStore,
) -> None:
    codec = AvroCodec(default_catalog())
    front = stats_view(store, codec, min_cases=K)
    region = dashboard_view(
        store, codec, load_calendar(None), {}, Filters(region="3374"), min_cases=K
    )

    row = next(row for row in front["by_region"] if row["region"] == "3374")
    assert row["reported"] == region["counts"]["received"] == 5
    for column in COLUMNS:
        assert (row[column] is None) == (region["counts"][column] is None), column
    # Shown both, they would give back the one recommendation not followed up.
    assert row["recommended"] is None or row["followed_up"] is None
