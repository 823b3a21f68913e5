"""Each withheld cell says why, from its reason code, on every channel of the real hub.

On a hub of its own, two elections of one sanctioned case each beside one of four (as in
``test_dashboard_withheld_together``): the small elections' rows are withheld for their size,
and the large one's row, made from four cases, only so that the two small ones cannot be worked
out from the totals. A reader told "fewer than 3 cases, widen the filter" of that row, or on a
page without a filter, was told something false.
"""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from streams.audit.figures.command import run_figures, run_stats
from streams.audit.figures.filters import Filters
from streams.audit.suppression import REASONS, reasons
from streams.settings import Settings
from tests.brokers import start_ephemeral_broker
from tests.casemix import Mix
from tests.hubtools import RunningHub, start_hub
from tests.web.test_dashboard_http import get
from tests.web.test_dashboard_small_groups import sanctioned_case
from tests.web.test_dashboard_withheld_together import figures

SIZES = (1, 1, 4)


@pytest.fixture(scope="module")
def elections(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHub, list[str]]]:
    """A hub of three elections (sizes :data:`SIZES`), and their ids in that order."""
    root = tmp_path_factory.mktemp("withheld_words")
    broker = start_ephemeral_broker(root / "broker")
    try:
        hub = start_hub(broker.url, Path(root / "home"))
        try:
            ids = []
            for size in SIZES:
                mix = Mix(election=f"pilkada-words-{uuid.uuid4().hex[:8]}")
                for _ in range(size):
                    sanctioned_case(hub, mix)
                ids.append(mix.election)
            deadline = time.monotonic() + 30
            while figures(hub)["counts"]["received"] != sum(SIZES):
                assert time.monotonic() < deadline, "the dashboard never showed every case"
                time.sleep(0.3)
            yield hub, ids
        finally:
            hub.stop()
    finally:
        broker.stop()


OLD = ("Perluas filter", "Widen the filter", "kurang dari 3 kasus dapat mengungkap")
#: A withheld cell of the page: its column and its reason code ('' for none).
CELL = re.compile(
    r'<td class="[^"]*withheld" data-withheld="([a-z_0-9]+)"(?: data-because="([a-z_]+)")?'
)


def listed(row: dict[str, Any]) -> str:
    """The CSV's ``withheld_because`` of ``row``, as docs/dashboard.md writes it."""
    return " ".join(f"{column}={code}" for column, code in sorted(reasons(row).items()))


def page_codes(page: str) -> set[str]:
    """The reason codes of the page's withheld cells; '' for a cell without one."""
    return {code for _, code in CELL.findall(page)}


def view_codes(view: dict[str, Any]) -> set[str]:
    """The reason codes of every withheld value of a dashboard view."""
    rows = [view["counts"]] + [
        row for figure in ("handling_times", "violation_ratio", "follow_up", "catatan_merah")
        for row in view[figure]
    ]  # fmt: skip
    return {code for row in rows for code in reasons(row).values()}


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("which", ["all", "small", "large"])
def test_each_withheld_cell_of_the_dashboard_says_its_own_reason(
    elections: tuple[RunningHub, list[str]], which: str, lang: str
) -> None:
    hub, ids = elections
    query = {"all": "", "small": f"election={ids[0]}", "large": f"election={ids[2]}"}[which]

    view = figures(hub, query)
    status, _, page = get(hub, f"/dashboard?{query}&lang={lang}")

    assert status == 200
    assert page_codes(page) == view_codes(view)
    assert "" not in page_codes(page)
    for figure in ("counts", "handling_times", "violation_ratio", "follow_up", "catatan_merah"):
        rows = [view[figure]] if figure == "counts" else view[figure]
        said = set(re.findall(rf'data-withheld-note="{figure}" data-because="([a-z_]+)"', page))
        assert said == {code for row in rows for code in reasons(row).values()}, figure
    for code in view_codes(view):
        assert str(escape(view["suppression"]["reasons"][code][lang])) in page
    assert not any(old in page for old in OLD)
    # A wider filter helps only a filtered view with a value withheld for few cases: the
    # large election's values are withheld so that the small ones cannot be worked out.
    assert ("data-widen=" in page) == (which == "small")


def test_the_reasons_are_those_of_the_cells(elections: tuple[RunningHub, list[str]]) -> None:
    hub, ids = elections

    small, large, every = (
        figures(hub, q) for q in (f"election={ids[0]}", f"election={ids[2]}", "")
    )

    assert small["counts"]["withheld_because"]["received"] == "small_selection"
    # The front page withholds the large election's row (see below): so does its dashboard.
    assert set(reasons(large["counts"]).values()) == {"same_cases"}
    assert not reasons(every["counts"])
    assert list(every["suppression"]["reasons"]) == list(REASONS)
    assert every["suppression"]["wider_filter_helps"] == [
        "small_count", "small_group", "small_selection"
    ]  # fmt: skip
    assert not any(
        old in every["suppression"]["reason"][lang] for lang in ["id", "en"] for old in OLD
    )


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_front_page_says_a_row_of_many_cases_protects_the_small_ones(
    elections: tuple[RunningHub, list[str]], lang: str
) -> None:
    hub, ids = elections

    page = get(hub, f"/?lang={lang}")[2]

    rows = {
        election: page.split(f'data-stats="election:{election}"')[1].split("</tr>")[0]
        for election in ids
    }
    assert set(re.findall(r'data-because="([a-z_]+)"', rows[ids[0]])) == {"small_group"}
    assert set(re.findall(r'data-because="([a-z_]+)"', rows[ids[2]])) == {"complementary"}
    short = {"id": "(melindungi angka lain)", "en": "(protects another figure)"}[lang]
    assert short in rows[ids[2]]
    notes = set(re.findall(r'data-withheld-note="stats" data-because="([a-z_]+)"', page))
    assert notes == {"small_group", "complementary"}
    # The front page has no filter: nothing to widen.
    assert "data-widen=" not in page
    assert not any(old in page for old in OLD)


def test_the_csv_gives_each_row_its_reasons(elections: tuple[RunningHub, list[str]]) -> None:
    hub, ids = elections
    query = f"election={ids[2]}"

    view = figures(hub, query)
    own = get(hub, f"/dashboard/follow_up.csv?{query}")[2]
    every = get(hub, f"/dashboard/figures.csv?{query}")[2]

    rows = list(csv.DictReader(io.StringIO(own.lstrip("\ufeff"))))
    assert [row["withheld_because"] for row in rows] == [listed(row) for row in view["follow_up"]]
    assert "recommended=same_cases" in rows[0]["withheld_because"]
    about = dict(csv.reader(io.StringIO(every.split("# about\r\n")[1])))
    for code in REASONS:
        assert about[f"withheld_because={code}"] == view["suppression"]["reasons"][code]["en"]
    assert not any(old in every for old in OLD)


def test_kawal_stats_gives_the_reasons(
    elections: tuple[RunningHub, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    hub, ids = elections
    settings = Settings(audit_db_url=hub.store.url)

    assert run_figures(settings, Filters(election=ids[2]), "text", "follow_up") == 0
    figures_text = capsys.readouterr().out
    assert run_stats(settings, as_json=False) == 0
    front_text = capsys.readouterr().out

    assert "  withheld ppk.3374: " in figures_text
    assert "recommended=same_cases" in figures_text
    assert "  same_cases: Withheld because another table" in figures_text
    assert f"  withheld {ids[2]}: follow_up_overdue=complementary" in front_text
    assert f"  withheld {ids[0]}: follow_up_overdue=small_group" in front_text
    assert "  complementary: Withheld though made from enough cases" in front_text
    assert not any(old in figures_text + front_text for old in OLD)


@pytest.mark.parametrize("path", ["/", "/dashboard", "/dashboard?election={small}&lang=en"])
def test_the_pages_have_a_skip_link_and_tables_screen_readers_can_read(
    elections: tuple[RunningHub, list[str]], path: str
) -> None:
    hub, ids = elections

    status, _, page = get(hub, path.format(small=ids[0]))

    assert status == 200
    body = page.split("<body>", 1)[1]
    # The first link of the page skips the header and both menus, to the main content.
    assert re.match(r'\s*<a class="skip" href="#main">', body)
    assert '<main id="main"' in body
    tables = re.findall(r"<table>(.*?)</table>", body, re.DOTALL)
    assert len(tables) >= 4
    for table in tables:
        assert re.match(r'\s*<caption class="visually-hidden">\S', table), table[:200]
    headers = re.findall(r"<th\b[^>]*>", body)
    assert headers
    assert all('scope="col"' in header for header in headers), headers
