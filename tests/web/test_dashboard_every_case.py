"""Readers party to every case, and operators, read every PPK's follow-up figures unwithheld.

The mix (tests/casemix.py) gives ppk.3374 two recommendations, one followed up and one whose
follow-up deadline was breached: below K, so the public sees its row withheld. BKN, the
appeals body and Bawaslu RI read every case's trail, and an operator sees every case: the
rule protects nothing from them, and BKN must see which PPK leaves its recommendations
without follow-up.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from streams.domain.principals import PrincipalRole
from tests.casemix import Mix, drive_mix
from tests.hubtools import RunningHub, http_request

PPK = "ppk.3374"
REAL = {
    "recommended": 2, "followed_up": 1, "not_followed_up": 1, "pending": 0, "overdue": 1,
    "closed_without_follow_up": 0, "follow_up_rate": 0.5,
}  # fmt: skip
ENTITLED = [
    ("bkn", PrincipalRole.INSTITUTION),
    ("bpasn", PrincipalRole.INSTITUTION),
    ("bawaslu", PrincipalRole.INSTITUTION),
    ("ops.tests", PrincipalRole.OPERATOR),
]


@pytest.fixture(scope="module")
def mix(hub: RunningHub) -> Mix:
    return drive_mix(hub)


def read(hub: RunningHub, path: str, token: str | None = None) -> tuple[dict[str, str], str]:
    status, headers, body = http_request(f"{hub.base_url}{path}", token)
    assert status == 200, body[:500]
    return {key.lower(): value for key, value in headers.items()}, body.decode("utf-8-sig")


def follow_up_row(view: dict[str, Any], agency: str) -> dict[str, Any]:
    return next(row for row in view["follow_up"] if row["agency"] == agency)


@pytest.mark.parametrize(("principal", "role"), ENTITLED)
def test_a_reader_of_every_case_gets_every_ppks_follow_up_unwithheld(
    hub: RunningHub, mix: Mix, principal: str, role: PrincipalRole
) -> None:
    path = f"/dashboard/figures.json?election={mix.election}"
    public = json.loads(read(hub, path)[1])

    headers, body = read(hub, path, hub.token(principal, role).secret)
    view = json.loads(body)

    assert follow_up_row(public, PPK)["follow_up_rate"] is None
    row = follow_up_row(view, PPK)
    assert {key: row[key] for key in REAL} == REAL
    assert "withheld" not in row
    assert row["public_withheld"] == sorted(follow_up_row(public, PPK)["withheld"])
    assert row["pending_cases"] == []
    assert row["overdue_cases"] == [mix.ignored]
    assert "do not publish" in view["every_case_view"]["note"]["en"]
    assert headers["cache-control"] == "no-store"
    # Every other figure stays the public's.
    assert {k: v for k, v in view.items() if k not in ("follow_up", "every_case_view")} == {
        k: v for k, v in public.items() if k != "follow_up"
    }


@pytest.mark.parametrize("principal", ["bawaslu.33", "inspektorat.3374", "kasn"])
def test_an_institution_party_to_some_cases_only_reads_the_public_figures(
    hub: RunningHub, mix: Mix, principal: str
) -> None:
    path = f"/dashboard/figures.json?election={mix.election}"

    assert read(hub, path, hub.token(principal).secret)[1] == read(hub, path)[1]


def test_bkn_downloads_the_follow_up_csv_unwithheld_and_named_so(hub: RunningHub, mix: Mix) -> None:
    path = f"/dashboard/follow_up.csv?election={mix.election}"

    headers, body = read(hub, path, hub.token("bkn").secret)

    line = next(line for line in body.splitlines() if line.startswith(PPK))
    assert line.startswith(f"{PPK},2,1,1,0,1,0,0.5,")
    assert "kawal-unwithheld-follow_up" in headers["content-disposition"]
    assert headers["cache-control"] == "no-store"
    assert "withheld" in read(hub, path)[1]
    # The chart stays the public's, for everyone.
    svg = f"/dashboard/follow_up.svg?election={mix.election}"
    assert read(hub, svg, hub.token("bkn").secret)[1] == read(hub, svg)[1]


@pytest.mark.parametrize("lang", ["id", "en"])
def test_bkn_reads_the_page_with_the_rows_and_links_to_the_cases_not_followed_up(
    hub: RunningHub, mix: Mix, lang: str
) -> None:
    path = f"/dashboard?election={mix.election}&lang={lang}"

    page = read(hub, path, hub.token("bkn").secret)[1]

    assert f'<tr data-agency="{PPK}" class="own" data-public-withheld=' in page
    assert 'data-every-case-note="follow_up"' in page
    assert f'<a href="/cases/{mix.ignored}' in page
    assert f'<a href="/cases/{mix.ignored}' not in read(hub, path)[1]
    words = {"id": "ditahan dalam tampilan publik", "en": "withheld in the public view"}
    assert words[lang] in page
