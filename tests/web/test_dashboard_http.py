"""The dashboard on the real hub: a mix driven through the pipeline, over HTTP and in Chromium."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import pytest

from streams.domain.deadlines import JAKARTA
from tests.browser import keep
from tests.casemix import EXPECTED, Mix, drive_mix
from tests.hubtools import RunningHub, http_request, problem_of
from tests.web.test_page import PNG_SIGNATURE, chromium

#: The dashboard's counts of one mix (tests/casemix.py), by the dashboard's column names, as
#: the hub publishes them with the default K of 3: the ones and twos are withheld.
COUNTS = {
    "received": EXPECTED["reported"],
    "proven": None,
    "recommended": None,
    "followed_up": None,
    "sanctioned": None,
}
assert EXPECTED["reported"] == 3
assert all(0 < EXPECTED[column] < 3 for column in ("proven", "recommended", "followed_up"))


@pytest.fixture(scope="module")
def mix(hub: RunningHub) -> Mix:
    return drive_mix(hub)


@pytest.fixture(scope="module")
def counts(hub: RunningHub, mix: Mix) -> dict[str, int | None]:
    """The mix's counts as published: :data:`COUNTS`, but for the number of reports.

    Three reports are K, but the front page's row of the mix's election counts the same cases,
    and the secondary rule may withhold it there, depending on the other tests' cases on the
    session hub; the dashboard then withholds it too (docs/dashboard.md, Twins).
    """
    _, _, body = get(hub, f"/dashboard/figures.json?election={mix.election}")
    received = json.loads(body)["counts"]["received"]
    assert received in (COUNTS["received"], None)
    return COUNTS | {"received": received}


def withheld_of(counts: dict[str, int | None]) -> list[str]:
    """The columns of ``counts`` withheld, in their order."""
    return [column for column, value in counts.items() if value is None]


def get(hub: RunningHub, path: str, **headers: str) -> tuple[int, dict[str, str], str]:
    status, sent, body = http_request(f"{hub.base_url}{path}", headers=headers)
    # A CSV starts with a byte-order mark (tests/web/test_citable_exports.py).
    return status, sent, body.decode("utf-8-sig")


def hides_the_cases(mix: Mix, text: str) -> bool:
    """Whether ``text`` holds no case id and none of the mix's personal data."""
    return not [value for value in [*mix.case_ids, *mix.personal] if value in text]


def test_json_export_counts_the_mix_driven_through_the_hub(
    hub: RunningHub, mix: Mix, counts: dict[str, int | None]
) -> None:
    status, headers, body = get(hub, f"/dashboard/figures.json?election={mix.election}")

    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    view = json.loads(body)
    because = view["counts"].pop("withheld_because", {})
    assert view["counts"] == counts | {"withheld": sorted(withheld_of(counts))}
    # Every withheld count says why.
    assert sorted(because) == sorted(withheld_of(counts))
    assert view["filters"]["election"] == mix.election
    assert [row["agency"] for row in view["follow_up"]] == ["ppk.3374"]
    # Two recommendations, one followed up: the rate would tell each case's outcome.
    assert view["follow_up"][0]["follow_up_rate"] is None
    assert [row["stage"] for row in view["handling_times"]][-1] == "end_to_end"
    assert view["handling_times"][-1]["cases"] is None
    registration = view["handling_times"][0]
    if counts["received"] is None:
        # What the front page withholds of the same cases (other tests' cases share its rows):
        # every stage goes with the counts' received, which its cases (3 registered) would
        # bound from below, and its median, which would tell that some got that far.
        assert all(row["cases"] is None for row in view["handling_times"])
        assert registration["median_working_days"] is None
    else:
        assert registration["cases"] == 3
    assert view["suppression"]["min_cases"] == 3
    assert hides_the_cases(mix, body)


def test_csv_export_of_a_figure_and_of_all(
    hub: RunningHub, mix: Mix, counts: dict[str, int | None]
) -> None:
    status, headers, body = get(hub, f"/dashboard/counts.csv?election={mix.election}")
    _, _, every = get(hub, f"/dashboard/figures.csv?election={mix.election}")

    assert status == 200
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    # The name tells the filters and the day, so two downloads never overwrite each other:
    # the Jakarta day of the read, as the page's "as of" (from 17:00 UTC, the UTC day after).
    read_at = json.loads(get(hub, f"/dashboard/figures.json?election={mix.election}")[2])[
        "generated_at"
    ]
    day = datetime.fromisoformat(read_at).astimezone(JAKARTA).date().isoformat()
    name = f"kawal-counts-election-{mix.election}-{day}.csv"
    assert headers["Content-Disposition"] == f'attachment; filename="{name}"'
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [{key: row[key] for key in counts} for row in rows] == [
        {key: str(value or "withheld") for key, value in counts.items()}
    ]
    assert "# catatan_merah\r\n" in every
    assert hides_the_cases(mix, body + every)


def test_a_chart_is_served_as_svg_in_the_asked_language(
    hub: RunningHub, mix: Mix, counts: dict[str, int | None]
) -> None:
    status, headers, body = get(hub, f"/dashboard/counts.svg?election={mix.election}&lang=en")
    _, _, indonesian = get(hub, f"/dashboard/counts.svg?election={mix.election}")

    assert status == 200
    assert headers["Content-Type"].startswith("image/svg+xml")
    svg = ET.fromstring(body)
    assert svg.get("role") == "img"
    bars = [
        text
        for text in svg.iter("{http://www.w3.org/2000/svg}text")
        if not text.get("data-caption")
    ]
    assert [text.text for text in bars][1::2] == [
        str(count or "withheld") for count in counts.values()
    ]
    assert len(list(svg.iter("{http://www.w3.org/2000/svg}rect"))) == len(counts) - len(
        withheld_of(counts)
    )
    assert "reports received" in body
    assert "laporan diterima" in indonesian
    assert hides_the_cases(mix, body)


@pytest.mark.parametrize(
    ("path", "status", "problem"),
    [
        ("/dashboard/catatan_merah.svg", 404, "no chart of that name"),
        ("/dashboard/counts.svg?to=tomorrow", 400, "to must be a day as YYYY-MM-DD"),
        ("/dashboard/figures.json?region=Jawa", 400, "region must be a Kemendagri code"),
        # 33 and two Arabic-Indic digits: a region of its own beside 3374, were it taken.
        ("/dashboard/figures.json?region=33%D9%A7%D9%A4", 400, "region must be a Kemendagri"),
        ("/dashboard/counts.csv?from=2024-13-01", 400, "from must be a day as YYYY-MM-DD"),
        # Forms date.fromisoformat takes that the message does not name.
        ("/dashboard/figures.json?from=20240101", 400, "from must be a day as YYYY-MM-DD"),
        ("/dashboard/figures.json?to=2024-W44-6", 400, "to must be a day as YYYY-MM-DD"),
        ("/dashboard/figures.json?from=2024-12-01&to=2024-01-01", 400, "the range ends"),
        ("/dashboard/everything.csv", 404, "no such figure"),
    ],
)
def test_a_bad_request_is_refused_with_what_to_send(
    hub: RunningHub, path: str, status: int, problem: str
) -> None:
    code, headers, body = get(hub, path)

    assert code == status
    assert problem in problem_of(code, headers, body.encode())["detail"]


def test_the_page_refuses_a_bad_filter_with_the_form(hub: RunningHub) -> None:
    status, _, body = get(hub, "/dashboard?agency=%3Cb%3Ex%3C%2Fb%3E&lang=en")

    assert status == 400
    assert "agency must be an id in lower case" in body
    assert "<b>x</b>" not in body


def test_a_bad_credential_is_refused_even_on_the_public_dashboard(hub: RunningHub) -> None:
    status, headers, _ = get(hub, "/dashboard/figures.json", Authorization="Bearer not-a-token")

    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_chromium_renders_the_dashboard(
    hub: RunningHub, mix: Mix, counts: dict[str, int | None], tmp_path: Path, lang: str
) -> None:
    url = f"{hub.base_url}/dashboard?election={mix.election}&lang={lang}"
    shot = tmp_path / f"dashboard-{lang}.png"

    shown = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2400", url)
    dumped = chromium(tmp_path, "--dump-dom", url)
    dom = dumped.stdout.decode()

    assert shown.returncode == 0, shown.stderr.decode(errors="replace")[-2000:]
    keep(shot)
    assert shot.read_bytes().startswith(PNG_SIGNATURE)
    assert shot.stat().st_size > 20_000
    assert dumped.returncode == 0, dumped.stderr.decode(errors="replace")[-2000:]
    assert f'<html lang="{lang}">' in dom
    title = {"id": "Dasbor netralitas ASN", "en": "ASN neutrality dashboard"}[lang]
    assert f"<h1>{title}</h1>" in dom
    cells = re.search(r'<tr data-figure="counts">(.*?)</tr>', dom, re.DOTALL)
    assert cells is not None
    assert [int(cell) for cell in re.findall(r">(\d+)</td>", cells.group(1))] == [
        count for count in counts.values() if count is not None
    ]
    assert re.findall(r'data-withheld="(\w+)"', cells.group(1)) == withheld_of(counts)
    assert len(re.findall(r'<svg [^>]*role="img"', dom)) == 4
    assert hides_the_cases(mix, dom)
