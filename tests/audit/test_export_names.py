"""The name of a CSV download: the figure, the filters and the Jakarta day of the read."""

from __future__ import annotations

from typing import Any

import pytest

from streams.audit.figures.export import export_file_name

NO_FILTER = {"election": None, "region": None, "agency": None, "from": None, "to": None}


def view_read_at(generated_at: str, **filters: str) -> dict[str, Any]:
    return {"filters": NO_FILTER | filters, "generated_at": generated_at}


@pytest.mark.parametrize(
    ("generated_at", "day"),
    [
        # 03:20 WIB on 7 December: the page says "per 7 Des 2026", so must the file.
        ("2026-12-06T20:20:29.787393+00:00", "2026-12-07"),
        ("2026-12-06T16:59:59+00:00", "2026-12-06"),
        ("2026-12-06T17:00:00+00:00", "2026-12-07"),
        ("2026-12-31T18:00:00+00:00", "2027-01-01"),
    ],
)
def test_a_download_is_named_after_the_jakarta_day_of_the_read(generated_at: str, day: str) -> None:
    name = export_file_name(view_read_at(generated_at, region="33"), "follow_up")

    assert name == f"kawal-follow_up-region-33-{day}.csv"
