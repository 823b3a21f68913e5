"""The dashboard's exports from the real hub can be cited and checked again later.

Each says inside itself when the store was read and which filters applied, carries an ETag and
Last-Modified of that read and answers a re-check with 304; a range that starts after the read
is refused rather than answered with zeros (docs/dashboard.md).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from babel.dates import format_date

from streams.domain.deadlines import JAKARTA
from tests.casemix import Mix, drive_mix
from tests.hubtools import RunningHub, http_request, problem_of

BOM = b"\xef\xbb\xbf"
EXPORTS = (
    "/dashboard/figures.json",
    "/dashboard/figures.csv",
    "/dashboard/counts.csv",
    "/dashboard/follow_up.csv",
    "/dashboard/counts.svg",
)


@pytest.fixture(scope="module")
def mix(hub: RunningHub) -> Mix:
    return drive_mix(hub)


def get(hub: RunningHub, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    return http_request(f"{hub.base_url}{path}", headers=headers)


def read_at(hub: RunningHub, query: str) -> datetime:
    """When the store behind the figures of ``query`` was read, as figures.json says."""
    _, _, body = get(hub, f"/dashboard/figures.json?{query}")
    return datetime.fromisoformat(json.loads(body)["generated_at"])


@pytest.mark.parametrize("export", EXPORTS)
def test_an_export_carries_validators_and_a_recheck_gets_304(
    hub: RunningHub, mix: Mix, export: str
) -> None:
    path = f"{export}?election={mix.election}"
    for _ in range(3):  # a deadline breach the timer records between two requests reads anew
        status, headers, body = get(hub, path)
        again, again_headers, again_body = get(hub, path, **{"If-None-Match": headers["ETag"]})
        if again == 304:
            break

    assert status == 200
    assert headers["ETag"] == f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    assert headers["Cache-Control"] == "no-cache"
    last_modified = format_datetime(read_at(hub, f"election={mix.election}"), usegmt=True)
    assert headers["Last-Modified"] == last_modified
    assert (again, again_body) == (304, b"")
    assert again_headers["ETag"] == headers["ETag"]
    assert again_headers["Last-Modified"] == last_modified
    other, _, _ = get(
        hub, f"{path}&from=2024-01-01", **{"If-None-Match": f'W/"x", {headers["ETag"]}'}
    )
    assert other == 200  # other filters, other bytes, other tag


def test_a_figure_csv_says_when_it_was_read_and_its_filters(hub: RunningHub, mix: Mix) -> None:
    query = f"election={mix.election}&from=2024-01-01"
    status, headers, body = get(hub, f"/dashboard/counts.csv?{query}")
    _, _, every = get(hub, f"/dashboard/figures.csv?{query}")

    assert status == 200
    # Excel opened by a double click reads UTF-8 only after a byte-order mark.
    assert body.startswith(BOM)
    assert every.startswith(BOM)
    (row,) = csv.DictReader(io.StringIO(body.decode("utf-8-sig")))
    # After the figure's columns, then the names of the filters, added later (docs/dashboard.md).
    assert list(row)[-8:] == [
        "generated_at", "filter_election", "filter_region", "filter_agency", "filter_from",
        "filter_to", "filter_region_name", "filter_agency_name",
    ]  # fmt: skip
    assert (row["filter_election"], row["filter_from"]) == (mix.election, "2024-01-01")
    assert (row["filter_region"], row["filter_agency"], row["filter_to"]) == ("", "", "")
    generated_at = datetime.fromisoformat(row["generated_at"])
    assert headers["Last-Modified"] == format_datetime(generated_at.astimezone(UTC), usegmt=True)
    assert f"generated_at,{row['generated_at']}\r\n" in every.decode("utf-8-sig")


@pytest.mark.parametrize(
    "export", ["/dashboard/figures.json", "/dashboard/counts.csv", "/dashboard/counts.svg"]
)
def test_a_range_starting_after_the_read_is_refused_not_zeros(
    hub: RunningHub, mix: Mix, export: str
) -> None:
    as_of = read_at(hub, f"election={mix.election}").astimezone(JAKARTA).date()
    later = (as_of + timedelta(days=2)).isoformat()

    status, headers, body = get(hub, f"{export}?from={later}")
    found = problem_of(status, headers, body)

    assert (status, found["reason"]) == (400, "range_after_as_of")
    assert "no case can be in it yet" in found["detail"]


def test_a_range_starting_on_the_day_of_the_read_is_answered(hub: RunningHub, mix: Mix) -> None:
    as_of = read_at(hub, f"election={mix.election}").astimezone(JAKARTA).date()

    status, _, _ = get(hub, f"/dashboard/figures.json?from={as_of.isoformat()}")

    assert status == 200


def test_the_page_refuses_a_range_starting_after_the_read(hub: RunningHub, mix: Mix) -> None:
    status, _, body = get(hub, "/dashboard?from=2999-01-01&lang=en")
    _, _, indonesian = get(hub, "/dashboard?from=2999-01-01")

    as_of = read_at(hub, f"election={mix.election}").astimezone(JAKARTA).date()
    assert status == 400
    # The day is named, as the exports' detail names it: the reader sees which From to give.
    english, bahasa = (format_date(as_of, "d MMMM y", locale=lang) for lang in ("en", "id"))
    assert f"The range starts after {english}, the day the figures were read" in body.decode()
    assert f"Rentang tanggal dimulai setelah {bahasa}, hari angka ini dibaca" in indonesian.decode()
