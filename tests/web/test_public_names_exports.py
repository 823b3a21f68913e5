"""The public tables and exports over real HTTP: names beside codes, and what each export is.

On the session hub (real broker, worker, sink and SQLite store): three proven reports of an
agency the registry does not know (``ppk.3399``, region ``3399``) in an election of their own,
beside the other tests' cases of ``ppk.3374`` (region ``3374``, Kota Semarang).
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import time
import uuid
from importlib import metadata
from typing import Any

import pytest

from tests.hubtools import RunningHub, http_request, problem_of, report, until_referral
from tests.web.openapi_spec import check_body

ELECTION = f"pilkada-names-{uuid.uuid4().hex[:8]}"
UNKNOWN_AGENCY = "ppk.3399"
KNOWN_AGENCY, KNOWN_NAME = "ppk.3374", "PPK Pemerintah Kota Semarang"
#: Seconds to wait for the figures to read the store again after the cases were stored.
FRESH_SECONDS = 30


@pytest.fixture(scope="module")
def driven(hub: RunningHub) -> None:
    """Three proven reports of an agency the registry does not name, and one of a named one."""
    for agency in (UNKNOWN_AGENCY, UNKNOWN_AGENCY, UNKNOWN_AGENCY, KNOWN_AGENCY):
        first = report() | {
            "election": ELECTION,
            "employing_agency": agency,
            "region_code": agency.removeprefix("ppk."),
        }
        hub.step("ReportReceived", first)
        for event_type, record in until_referral(first["envelope"]["case_id"]):
            hub.step(event_type, record)
    # The figures are read again once the store grew and a pause passed (docs/dashboard.md).
    deadline = time.monotonic() + FRESH_SECONDS
    while time.monotonic() < deadline:
        status, _, body = get(hub, f"/dashboard/figures.json?election={ELECTION}")
        if status == 200 and json.loads(body)["counts"]["received"] is not None:
            return
        time.sleep(0.5)
    pytest.fail(f"the dashboard never counted the election's cases: {body[:300]!r}")


def get(hub: RunningHub, path: str) -> tuple[int, dict[str, str], str]:
    status, headers, body = http_request(f"{hub.base_url}{path}")
    # A CSV starts with a byte-order mark, which utf-8-sig drops (docs/dashboard.md).
    return status, headers, body.decode("utf-8-sig")


def figures(hub: RunningHub) -> dict[str, Any]:
    status, _, body = get(hub, f"/dashboard/figures.json?election={ELECTION}")
    assert status == 200, body[:300]
    found: dict[str, Any] = json.loads(body)
    return found


def by_agency(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["agency"]: row for row in rows}


def test_json_rows_keep_the_code_and_gain_the_name_or_null(hub: RunningHub, driven: None) -> None:
    view = figures(hub)

    check_body("/dashboard/figures.json", 200, "application/json", view)
    ratio = by_agency(view["violation_ratio"])
    assert ratio[KNOWN_AGENCY]["agency_name"] == KNOWN_NAME
    assert ratio[UNKNOWN_AGENCY]["agency_name"] is None
    assert by_agency(view["catatan_merah"])[UNKNOWN_AGENCY]["agency_name"] is None
    assert view["filter_names"] == {"region": None, "agency": None}


def test_json_names_the_filters(hub: RunningHub, driven: None) -> None:
    status, _, body = get(hub, f"/dashboard/figures.json?region=3374&agency={KNOWN_AGENCY}")

    assert status == 200, body[:300]
    assert json.loads(body)["filter_names"] == {"region": "Kota Semarang", "agency": KNOWN_NAME}


def test_json_carries_the_version_and_the_page_s_column_definitions(
    hub: RunningHub, driven: None
) -> None:
    view = figures(hub)
    _, _, page = get(hub, f"/dashboard?election={ELECTION}&lang=en")

    assert view["software"] == {"name": "kawal", "version": metadata.version("kawal")}
    captions = dict(re.findall(r'data-column="(\w+)" title="([^"]*)"', page))
    assert captions["follow_up_rate"]  # the page captions its columns at all
    assert {column: html.unescape(text) for column, text in captions.items()} == {
        column: view["columns"][column]["en"] for column in captions
    }
    assert set(view["suppression"]["reasons"]) >= {"small_count", "complementary"}


def test_a_figure_csv_parses_with_names_and_links_its_csvw_metadata(
    hub: RunningHub, driven: None
) -> None:
    status, headers, body = get(hub, f"/dashboard/violation_ratio.csv?election={ELECTION}")

    assert status == 200
    rows = list(csv.DictReader(io.StringIO(body)))
    assert by_agency(rows)[UNKNOWN_AGENCY]["agency_name"] == "unknown agency"
    assert by_agency(rows)[KNOWN_AGENCY]["agency_name"] == KNOWN_NAME
    assert not any(line.startswith("#") for line in body.splitlines())
    link = re.fullmatch(
        r'<([^>]+)>; rel="describedby"; type="application/csvm\+json"', headers["Link"]
    )
    assert link is not None, headers["Link"]
    assert link[1] == f"violation_ratio.csv-metadata.json?election={ELECTION}"

    status, headers, found = get(hub, f"/dashboard/{link[1]}")

    assert status == 200, found[:300]
    assert headers["Content-Type"].startswith("application/csvm+json")
    document = json.loads(found)
    check_body("/dashboard/{figure}.csv-metadata.json", 200, "application/csvm+json", document)
    view = figures(hub)
    assert document["url"] == f"violation_ratio.csv?election={ELECTION}"
    columns = document["tableSchema"]["columns"]
    assert [column["name"] for column in columns] == list(rows[0])
    for column in columns:
        words = {value["@language"]: value["@value"] for value in column["dc:description"]}
        assert words == view["columns"][column["name"]], column["name"]
    assert document["prov:generatedAtTime"]["@value"] == rows[0]["generated_at"]
    assert document["prov:wasGeneratedBy"]["schema:softwareVersion"] == metadata.version("kawal")
    (rule,) = document["notes"]
    codes = [term["schema:termCode"] for term in rule["schema:hasDefinedTerm"]]
    assert codes == list(view["suppression"]["reasons"])
    assert rule["schema:value"] == view["suppression"]["min_cases"]


def test_the_csv_of_every_figure_keeps_its_version_and_column_definitions(
    hub: RunningHub, driven: None
) -> None:
    _, _, body = get(hub, f"/dashboard/figures.csv?election={ELECTION}")
    view = figures(hub)

    about = dict(csv.reader(io.StringIO(body.split("# about\r\n")[1])))
    assert about["software"] == f"kawal {metadata.version('kawal')}"
    assert about["column_agency_name"] == view["columns"]["agency_name"]["en"]


def test_the_dashboard_page_names_an_unknown_agency_in_its_language(
    hub: RunningHub, driven: None
) -> None:
    _, _, english = get(hub, f"/dashboard?election={ELECTION}&lang=en")
    _, _, indonesian = get(hub, f"/dashboard?election={ELECTION}")

    row = re.search(rf'<tr data-agency="{UNKNOWN_AGENCY}">.*?</td>', english, re.S)
    assert row is not None
    assert "(unknown agency)" in row[0]
    assert "(instansi tidak dikenal)" in indonesian
    assert f"{KNOWN_NAME} <code>{KNOWN_AGENCY}</code>" in english
    assert 'data-metadata="violation_ratio"' in english


def test_the_front_page_names_agencies_and_regions(hub: RunningHub, driven: None) -> None:
    status, _, page = get(hub, "/?lang=en")

    assert status == 200
    cells = dict(re.findall(r'<tr data-stats="(\w+:[\w.-]+)"><td>(.*?)</td>', page, re.S))
    assert cells[f"institution:{KNOWN_AGENCY}"] == f"{KNOWN_NAME} <code>{KNOWN_AGENCY}</code>"
    assert cells["region:3374"] == "Kota Semarang <code>3374</code>"
    unknown = cells[f"institution:{UNKNOWN_AGENCY}"]
    assert unknown.startswith(f"<code>{UNKNOWN_AGENCY}</code>")
    assert "unknown agency" in unknown
    assert "unknown region" in cells["region:3399"]


def test_metadata_of_no_figure_or_bad_filters_is_refused(hub: RunningHub, driven: None) -> None:
    status, headers, body = http_request(f"{hub.base_url}/dashboard/figures.csv-metadata.json")
    assert problem_of(status, headers, body)["reason"] == "no_such_figure"
    assert status == 404

    status, headers, body = http_request(
        f"{hub.base_url}/dashboard/counts.csv-metadata.json?region=Semarang"
    )
    assert status == 400
    assert problem_of(status, headers, body)["reason"] == "invalid_filter"

    status, headers, body = http_request(
        f"{hub.base_url}/dashboard/counts.csv-metadata.json?election=no-such-{ELECTION}"
    )
    assert status == 404
    assert json.loads(body)["reason"] == "unknown_filter_value"
