"""Filter values the hub does not know, on the real hub: said so on every channel, never zeros.

A mistyped election used to give zeros and "tidak ada data", as if the election had no case: a
typo became a finding. Each channel now answers that the value is unknown and lists the known
ones (docs/dashboard.md, Filters).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.casemix import Mix, drive_mix
from tests.hubtools import RunningHub, report
from tests.web.openapi_spec import check_body
from tests.web.test_dashboard_http import get

#: An election no case names: the mix's election with one letter changed, as a typo would be.
TYPO = "pilkada-tset"
UNKNOWN = {
    "election": f"election={TYPO}",
    "region": "region=99",
    "agency": "agency=ppk.9999",
}
#: Each export and its path in docs/openapi.yaml.
EXPORTS = {
    "figures.json": "/dashboard/figures.json",
    "counts.csv": "/dashboard/{figure}.csv",
    "figures.csv": "/dashboard/{figure}.csv",
    "counts.svg": "/dashboard/{figure}.svg",
}


@pytest.fixture(scope="module")
def mix(hub: RunningHub) -> Mix:
    return drive_mix(hub)


def unknown_problem(hub: RunningHub, export: str, query: str) -> dict[str, Any]:
    """The problem document answering ``export``, checked as an unknown filter value's."""
    status, headers, body = get(hub, f"/dashboard/{export}?{query}")
    assert status == 404, body
    assert headers["Content-Type"].startswith("application/problem+json")
    found: dict[str, Any] = json.loads(body)
    assert found["type"] == "urn:kawal:problem:unknown_filter_value"
    assert found["reason"] == "unknown_filter_value"
    assert found["status"] == 404
    assert found["detail"]
    check_body(EXPORTS[export], 404, "application/problem+json", found)
    return found


@pytest.mark.parametrize("export", EXPORTS)
@pytest.mark.parametrize("field", sorted(UNKNOWN))
def test_every_export_refuses_an_unknown_value_and_lists_the_known(
    hub: RunningHub, mix: Mix, export: str, field: str
) -> None:
    found = unknown_problem(hub, export, UNKNOWN[field])

    assert found["field"] == field
    known = {"election": mix.election, "region": {"code": "33", "name": "Jawa Tengah"}}
    known["agency"] = "ppk.3374"
    assert known[field] in found["known"]
    assert "received" not in json.dumps(found)


def test_a_known_election_is_counted_and_listed_as_a_choice(hub: RunningHub, mix: Mix) -> None:
    status, _, body = get(hub, f"/dashboard/figures.json?election={mix.election}")

    assert status == 200
    view = json.loads(body)
    assert mix.election in view["choices"]["election"]
    assert TYPO not in view["choices"]["election"]
    assert view["choices"]["election"] == sorted(view["choices"]["election"])


def test_a_regency_of_a_known_province_is_a_true_zero(hub: RunningHub, mix: Mix) -> None:
    # No regency list is kept: 3399 is a part of province 33 that has no case.
    status, _, body = get(hub, f"/dashboard/figures.json?election={mix.election}&region=3399")

    assert status == 200
    assert json.loads(body)["counts"]["received"] == 0


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "No case of this election is in the hub"),
        ("id", "Tidak ada kasus dari pemilihan ini di hub"),
    ],
)
def test_the_page_says_an_election_is_unknown_and_links_the_known(
    hub: RunningHub, mix: Mix, lang: str, said: str
) -> None:
    status, _, page = get(hub, f"/dashboard?election={TYPO}&region=33&lang={lang}")

    assert status == 404
    assert said in page
    assert "tidak ada data" not in page
    assert "no data" not in page
    language = "&amp;lang=en" if lang == "en" else ""
    # Each link keeps the other filters and replaces only the unknown value.
    assert f'href="/dashboard?election={mix.election}&amp;region=33{language}"' in page
    assert f'<option value="{mix.election}">{mix.election}</option>' in page


@pytest.mark.parametrize(
    ("query", "said", "link"),
    [
        ("region=99", "No province has this Kemendagri code", "Jawa Tengah (33)"),
        ("agency=ppk.9999", "No registered PPK nor any case", "(ppk.3374)"),
    ],
)
def test_the_page_says_a_region_or_agency_is_unknown(
    hub: RunningHub, query: str, said: str, link: str
) -> None:
    status, _, page = get(hub, f"/dashboard?{query}&lang=en")

    assert status == 404
    assert said in page
    assert link in page


def test_the_page_offers_the_elections_and_the_provinces(hub: RunningHub, mix: Mix) -> None:
    hub.step("ReportReceived", report())  # of pilkada-2024, an election with words in data
    deadline = time.monotonic() + 30
    while (
        "pilkada-2024"
        not in json.loads(get(hub, "/dashboard/figures.json")[2])["choices"]["election"]
    ):
        assert time.monotonic() < deadline, "the dashboard never read the new case"
        time.sleep(0.3)
    status, _, page = get(hub, "/dashboard")
    english = get(hub, "/dashboard?lang=en")[2]

    assert status == 200
    assert '<select name="election">' in page
    # An election the labels know is offered by its words; another by its id.
    assert (
        '<option value="pilkada-2024">Pilkada serentak 2024 (gubernur, bupati, wali kota)'
        " · pilkada-2024</option>" in page
    )
    assert ">2024 simultaneous regional elections (governors, regents, mayors) · pilkada-2024<" in (
        english
    )
    assert f'<option value="{mix.election}">{mix.election}</option>' in page
    assert '<option value="33" label="Jawa Tengah">' in page


@pytest.mark.parametrize("export", sorted(EXPORTS))
@pytest.mark.parametrize("query", ["year=2024", "elction=pilkada-2024"])
def test_a_parameter_that_is_no_filter_is_refused_not_ignored(
    hub: RunningHub, export: str, query: str
) -> None:
    # Left unread, it would give every case's figures as if they were filtered.
    status, headers, body = get(hub, f"/dashboard/{export}?{query}")

    assert status == 400
    assert headers["Content-Type"].startswith("application/problem+json")
    found = json.loads(body)
    assert found["reason"] == "invalid_filter"
    assert "give only election, region, agency, from and to" in found["detail"]
    check_body(EXPORTS[export], 400, "application/problem+json", found)


@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", "none of the filters"), ("id", "bukan salah satu filter")],
)
def test_the_page_refuses_a_parameter_that_is_no_filter(
    hub: RunningHub, lang: str, said: str
) -> None:
    status, _, page = get(hub, f"/dashboard?year=2024&lang={lang}")

    assert status == 400
    assert said in page
