"""Small groups on the real hub: nothing from fewer than K cases on any channel, K cases shown.

Three elections of sanctioned cases are driven through the pipeline: one of a single case (a
filter that isolates it), one of K-1 and one of K, K being the hub's default of 3.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import uuid
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from streams.audit.figures.command import run_figures
from streams.audit.figures.filters import Filters
from streams.settings import Settings
from tests.casemix import Mix, new_report
from tests.hubtools import RunningHub, recommendation, sanction, until_referral
from tests.web.test_dashboard_http import get

K = 3
COUNTS = ("received", "proven", "recommended", "followed_up", "sanctioned")
CHARTS = ("counts", "handling_times", "violation_ratio", "follow_up")
SVG = "{http://www.w3.org/2000/svg}"
#: Why the values of a selection of fewer than K cases are withheld (their reason code's words).
MESSAGES = {
    "id": "Ditahan karena saringan memilih kurang dari 3 kasus: tidak ada angka yang dihitung "
    "darinya ditampilkan.",
    "en": "Withheld because the filters choose fewer than 3 cases: nothing computed from them "
    "is shown.",
}


def sanctioned_case(hub: RunningHub, mix: Mix) -> None:
    """One case reported, proven, recommended and sanctioned, through the hub."""
    first = new_report(mix)
    hub.step("ReportReceived", first)
    case_id = first["envelope"]["case_id"]
    for event_type, record in until_referral(case_id):
        hub.step(event_type, record)
    hub.step("RecommendationIssued", recommendation(case_id))
    hub.step("SanctionImposed", sanction(case_id))


def figures(hub: RunningHub, query: str) -> dict[str, Any]:
    status, _, body = get(hub, f"/dashboard/figures.json?{query}")
    assert status == 200
    found: dict[str, Any] = json.loads(body)
    return found


@pytest.fixture(scope="module")
def elections(hub: RunningHub) -> dict[int, str]:
    """Size -> the election of that many sanctioned cases."""
    found = {}
    for size in (1, K - 1, K):
        mix = Mix(election=f"pilkada-small-{uuid.uuid4().hex[:8]}")
        for _ in range(size):
            sanctioned_case(hub, mix)
        found[size] = mix.election
    # The figures are read again once the store has grown: wait for the last election.
    deadline = time.monotonic() + 30
    while figures(hub, f"election={found[K]}")["counts"]["received"] != K:
        assert time.monotonic() < deadline, "the dashboard never showed the last election"
        time.sleep(0.3)
    return found


def assert_nothing_shown(view: dict[str, Any]) -> None:
    """No count, median, P90, rate or day of the selection, only withheld markers."""
    assert view["counts"] == dict.fromkeys(COUNTS) | {
        "withheld": sorted(COUNTS),
        # The reason is the selection's size, not the front page withholding it too.
        "withheld_because": dict.fromkeys(sorted(COUNTS), "small_selection"),
    }
    for row in view["handling_times"]:
        assert [row[key] for key in ("cases", "median_working_days", "p90_working_days")] == [
            None,
            None,
            None,
        ]
    for figure in ("violation_ratio", "follow_up"):
        # Not even which agency: the one row stands for the whole table.
        assert len(view[figure]) == 1
        assert view[figure][0]["agency"] is None
        assert "agency" in view[figure][0]["withheld"]
    for row in view["catatan_merah"]:
        # The agency keeps its mark; its count and days are withheld.
        assert (row["proven"], row["first_proven_on"], row["last_proven_on"]) == (None,) * 3


def test_a_filter_isolating_one_case_shows_nothing_on_any_channel(
    hub: RunningHub, elections: dict[int, str], capsys: pytest.CaptureFixture[str]
) -> None:
    query = f"election={elections[1]}"

    view = figures(hub, query)
    _, _, every = get(hub, f"/dashboard/figures.csv?{query}")
    charts = [get(hub, f"/dashboard/{chart}.svg?{query}")[2] for chart in CHARTS]
    page = get(hub, f"/dashboard?{query}")[2]
    settings = Settings(audit_db_url=hub.store.url)
    assert run_figures(settings, Filters(election=elections[1]), "json", None) == 0
    printed = json.loads(capsys.readouterr().out)
    assert run_figures(settings, Filters(election=elections[1]), "text", None) == 0
    text = capsys.readouterr().out

    assert_nothing_shown(view)
    assert view["catatan_merah"]
    for figure in ("counts", "handling_times", "violation_ratio", "follow_up", "catatan_merah"):
        assert printed[figure] == view[figure]
    counts = next(csv.reader(io.StringIO(every.split("# handling_times")[0].split("\r\n", 1)[1])))
    assert counts == [*COUNTS, "withheld_because"]
    figures_part = every.split("# about")[0]  # the about table's K and time are no figures
    data_rows = [row for row in csv.reader(io.StringIO(figures_part)) if row and row[0][:1] != "#"]
    assert not [cell for row in data_rows for cell in row if re.fullmatch(r"[0-9.]+", cell)]
    assert "withheld" in every
    for svg in charts:
        assert not list(ET.fromstring(svg).iter(f"{SVG}rect"))
    assert not re.findall(r'<td class="num">[0-9]', page)
    assert MESSAGES["id"] in page
    assert not re.findall(r"^\s+\S+\s+[0-9]", text.split("Handling time")[0], re.MULTILINE)


def test_a_group_of_k_shows_its_figures_and_one_of_k_minus_1_does_not(
    hub: RunningHub, elections: dict[int, str]
) -> None:
    shown = figures(hub, f"election={elections[K]}")
    hidden = figures(hub, f"election={elections[K - 1]}")

    assert shown["counts"] == dict.fromkeys(COUNTS, K)
    assert [row["cases"] for row in shown["handling_times"]] == [K] * 5
    assert all(row["median_working_days"] is not None for row in shown["handling_times"])
    assert shown["follow_up"] == [
        {
            "agency": "ppk.3374",
            "recommended": K,
            "followed_up": K,
            "not_followed_up": 0,
            "pending": 0,
            "overdue": 0,
            "closed_without_follow_up": 0,
            "follow_up_rate": 1.0,
            "agency_name": "PPK Pemerintah Kota Semarang",
        }
    ]
    assert shown["catatan_merah"][0]["proven"] == K
    assert shown["catatan_merah"][0]["first_proven_on"] is not None
    _, _, counts = get(hub, f"/dashboard/counts.csv?election={elections[K]}")
    # The five counts, then when the store was read and the filters.
    assert counts.split("\r\n")[1].split(",")[:5] == [str(K)] * 5
    svg = ET.fromstring(get(hub, f"/dashboard/counts.svg?election={elections[K]}")[2])
    assert len(list(svg.iter(f"{SVG}rect"))) == 5
    assert_nothing_shown(hidden)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_page_says_why_in_its_language(
    hub: RunningHub, elections: dict[int, str], lang: str
) -> None:
    status, _, page = get(hub, f"/dashboard?election={elections[K - 1]}&lang={lang}")
    _, _, full = get(hub, f"/dashboard?election={elections[K]}&lang={lang}")

    assert status == 200
    other = "en" if lang == "id" else "id"
    assert MESSAGES[lang] in page
    assert MESSAGES[other] not in page
    assert {
        "id": '>ditahan <small class="because">(sedikit kasus terpilih)</small></td>',
        "en": '>withheld <small class="because">(few cases chosen)</small></td>',
    }[lang] in page
    assert MESSAGES[lang] not in full


def test_the_election_of_one_case_is_listed_by_name_as_the_front_page_names_it(
    hub: RunningHub, elections: dict[int, str]
) -> None:
    view = figures(hub, f"election={elections[K]}")
    front_page = get(hub, "/")[2]

    listed = view["choices"]["election"]
    assert elections[1] in listed
    # Names only, in the order of their names: no count, and no order that would tell one.
    assert listed == sorted(listed)
    assert all(isinstance(election, str) for election in listed)
    # The front page's table by election already names it, its counts withheld.
    assert elections[1] in front_page
    assert_nothing_shown(figures(hub, f"election={elections[1]}"))
