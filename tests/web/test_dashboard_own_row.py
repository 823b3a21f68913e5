"""A PPK reads its own follow-up row on the real hub's dashboard; every other reader the public's.

The mix (tests/casemix.py) gives ppk.3374 two recommendations, one followed up: below K, so
the public sees its row withheld.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from streams.domain.principals import PrincipalRole
from tests.casemix import Mix, drive_mix
from tests.hubtools import RunningHub, http_request

PPK = "ppk.3374"
#: ppk.3374's real figures in the mix: the recommendation not followed up is the ignored one.
REAL = {
    "recommended": 2, "followed_up": 1, "not_followed_up": 1, "pending": 0, "overdue": 1,
    "closed_without_follow_up": 0, "follow_up_rate": 0.5,
}  # fmt: skip
#: The marker of the own row and its note on the page, in each language.
MARKS = {
    "id": ("hanya terlihat oleh Anda", f"Baris {PPK} hanya terlihat oleh {PPK}"),
    "en": ("visible to you alone", f"The row of {PPK} is visible to {PPK} alone"),
}


@pytest.fixture(scope="module")
def mix(hub: RunningHub) -> Mix:
    return drive_mix(hub)


def get(hub: RunningHub, path: str, token: str | None = None) -> str:
    status, _, body = http_request(f"{hub.base_url}{path}", token)
    assert status == 200, body[:500]
    return body.decode()


def follow_up_row(view: dict[str, Any], agency: str) -> dict[str, Any]:
    return next(row for row in view["follow_up"] if row["agency"] == agency)


def without_own_row(view: dict[str, Any], public: dict[str, Any]) -> str:
    """``view`` with the PPK's row as the public has it and no marker, as JSON text."""
    back = {key: value for key, value in view.items() if key != "own_row"}
    back["follow_up"] = [
        follow_up_row(public, PPK) if row["agency"] == PPK else row for row in view["follow_up"]
    ]
    return json.dumps(back)


def test_a_ppk_reads_its_own_follow_up_row_in_figures_json(hub: RunningHub, mix: Mix) -> None:
    path = f"/dashboard/figures.json?election={mix.election}"
    public = json.loads(get(hub, path))

    view = json.loads(get(hub, path, hub.token(PPK).secret))

    assert follow_up_row(public, PPK)["follow_up_rate"] is None
    name = {"agency_name": "PPK Pemerintah Kota Semarang"}
    assert follow_up_row(view, PPK) == {"agency": PPK, **name, **REAL, "visible_only_to": PPK}
    assert view["own_row"]["agency"] == PPK
    assert "alone" in view["own_row"]["note"]["en"]
    assert "hanya terlihat oleh" in view["own_row"]["note"]["id"]
    assert without_own_row(view, public) == json.dumps(public)


@pytest.mark.parametrize(
    ("principal", "role"),
    [
        ("bawaslu.33", PrincipalRole.INSTITUTION),
        ("inspektorat.3374", PrincipalRole.INSTITUTION),
    ],
)
def test_other_institutions_read_the_public_figures(
    hub: RunningHub, mix: Mix, principal: str, role: PrincipalRole
) -> None:
    path = f"/dashboard/figures.json?election={mix.election}"
    public = get(hub, path)

    assert get(hub, path, hub.token(principal, role).secret) == public
    assert get(hub, f"/dashboard?election={mix.election}", hub.token(principal, role).secret) == (
        get(hub, f"/dashboard?election={mix.election}")
    )


def test_each_reader_in_turn_gets_its_own_view_and_never_anothers(
    hub: RunningHub, mix: Mix
) -> None:
    # Each view is kept per audience: whoever asked first, the next reader gets its own.
    path = f"/dashboard/figures.json?election={mix.election}&region=3374"
    ppk, other = hub.token(PPK).secret, hub.token("bawaslu.33").secret

    seen = [json.loads(get(hub, path, token)) for token in (ppk, other, None, ppk, None)]

    rates = [follow_up_row(view, PPK)["follow_up_rate"] for view in seen]
    assert rates == [0.5, None, None, 0.5, None]
    assert ["own_row" in view for view in seen] == [True, False, False, True, False]


def test_the_csv_and_svg_exports_stay_public_for_a_ppk(hub: RunningHub, mix: Mix) -> None:
    for path in (
        f"/dashboard/follow_up.csv?election={mix.election}",
        f"/dashboard/follow_up.svg?election={mix.election}",
    ):
        assert get(hub, path, hub.token(PPK).secret) == get(hub, path)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_ppk_reads_its_own_row_on_the_page_marked_for_it_alone(
    hub: RunningHub, mix: Mix, lang: str
) -> None:
    path = f"/dashboard?election={mix.election}&lang={lang}"
    public = get(hub, path)

    page = get(hub, path, hub.token(PPK).secret)

    row_of = re.compile(rf'<tr data-agency="{PPK}"[^>]*>.*?</tr>', re.DOTALL)
    own, shown = section(page), section(public)
    own_row, public_row = row_of.search(own), row_of.search(shown)
    assert own_row is not None
    assert public_row is not None
    marker, note = MARKS[lang]
    assert f"({marker})" in own_row.group(0)
    assert 'data-own-row="ppk.3374"' in own_row.group(0)
    rate = {"id": "50,0%", "en": "50.0%"}[lang]
    cells = re.findall(r'<td class="num[^"]*">([\d%,.]+)</td>', own_row.group(0))
    assert cells == ["2", "1", "1", "0", "1", "0", rate]  # the one not followed up is overdue
    assert "data-withheld" in public_row.group(0)
    own_note = re.search(r'<p class="own-note" data-own-note="follow_up">.*?</p>', own)
    assert own_note is not None
    assert note in own_note.group(0)
    # Byte for byte the public page, but for that row and the note.
    put_back = own.replace(own_note.group(0), "").replace(own_row.group(0), public_row.group(0))
    assert page.replace(own, put_back) == public
    assert "data-own" not in public


def section(page: str) -> str:
    found = re.search(r'<section id="follow_up">.*?</section>', page, re.DOTALL)
    assert found is not None
    return found.group(0)
