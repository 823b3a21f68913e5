"""The dashboard page and its charts as pure functions: accessible SVG, numbers, escaping."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from typing import Any

import pytest

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.figures.filters import FilterError, Filters, parse_filters
from streams.audit.figures.view import dashboard_view
from streams.audit.store import AuditStore
from streams.domain.calendar import load_calendar
from streams.web.charts import bar_chart
from streams.web.dashboard_page import chart_svg, dashboard_page, export_query
from streams.web.locales import Locale
from tests.dashboard_mix import generate, write

NOW = datetime(2025, 1, 31, 3, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def view(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    store = AuditStore(f"sqlite:///{tmp_path_factory.mktemp('dash') / 'audit.db'}")
    store.create_schema()
    codec = AvroCodec(default_catalog())
    write(store, codec, generate(seed=5, count=40))
    return dashboard_view(store, codec, load_calendar(), {}, Filters(), min_cases=1)


def charts_of(page: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in re.findall(r"<svg .*?</svg>", page, re.DOTALL)]


def test_bars_scale_to_the_largest_value() -> None:
    chart = bar_chart("c", "t", [("a", 10, "10"), ("b", 5, "5"), ("c", 0, "0"), ("d", -1, "-1")])

    widths = [bar.width for bar in chart.bars]
    assert widths[0] > 0
    assert widths[1] == widths[0] / 2
    assert widths[2:] == [0.0, 0.0]
    assert chart.bars[0].width + 220 + 8 * 3 <= chart.width
    assert chart.description == "a: 10; b: 5; c: 0; d: -1"


def test_a_rate_is_drawn_against_a_full_bar() -> None:
    chart = bar_chart("r", "t", [("a", 0.5, "50%"), ("b", 0.25, "25%")], full=1)

    assert chart.bars[0].width == 2 * chart.bars[1].width
    # Half of the plot: the width less the labels and room for four characters of text.
    assert chart.bars[0].width == (640 - 220 - 8 * 4) / 2


def test_a_chart_without_rows_says_so(view: dict[str, Any]) -> None:
    page = dashboard_page(view | {"follow_up": []}, "id", NOW)

    follow_up = next(svg for svg in charts_of(page) if svg.get("data-chart") == "follow-up-chart")
    assert [text.text for text in follow_up.iter(f"{SVG}text")] == ["tidak ada data"]
    assert "belum ada rekomendasi" in page


@pytest.mark.parametrize("locale", ["id", "en"])
def test_every_chart_is_an_image_with_a_title_and_its_numbers_as_text(
    view: dict[str, Any], locale: str
) -> None:
    page = dashboard_page(view, locale, NOW)  # type: ignore[arg-type]

    charts = charts_of(page)
    assert len(charts) == 4
    for svg in charts:
        assert svg.get("role") == "img"
        title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
        assert title is not None
        assert title.text
        assert desc is not None
        assert desc.text
        assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        shown = [text.text for text in svg.iter(f"{SVG}text")]
        for label, value in re.findall(r"([^;:]+): ([^;]+)", desc.text):
            assert label.strip() in shown
            assert value.strip() in shown
    counts = charts[0].find(f"{SVG}desc")
    assert counts is not None
    assert str(view["counts"]["received"]) in str(counts.text)


def test_the_page_is_indonesian_first_with_definitions_beside_the_figures(
    view: dict[str, Any],
) -> None:
    indonesian = dashboard_page(view, "id", NOW)
    english = dashboard_page(view, "en", NOW)

    assert '<html lang="id">' in indonesian
    assert "Dasbor netralitas ASN" in indonesian
    assert "Catatan merah" in indonesian
    assert "Tingkat tindak lanjut per PPK" in indonesian
    assert "Hari kerja setelah hari tahap dimulai" in indonesian
    assert '<html lang="en">' in english
    assert "ASN neutrality dashboard" in english
    assert "Working days after the day a stage started" in english
    assert "Laporan → registrasi" in indonesian
    assert "Report → registration" in english
    assert "<script" not in indonesian + english
    for figure in ("counts", "handling_times", "violation_ratio", "follow_up", "catatan_merah"):
        assert f'<section id="{figure}">' in english
        assert f'href="/dashboard/{figure}.csv"' in english


def test_follow_up_tells_pending_overdue_and_closed_apart_in_both_languages(
    view: dict[str, Any],
) -> None:
    row = {
        "agency": "ppk.3374", "recommended": 10, "followed_up": 4, "not_followed_up": 6,
        "pending": 2, "overdue": 3, "closed_without_follow_up": 1, "follow_up_rate": 0.4,
    }  # fmt: skip
    changed = view | {"follow_up": [row]}

    indonesian = dashboard_page(changed, "id", NOW)
    english = dashboard_page(changed, "en", NOW)

    section = english.split('<section id="follow_up">')[1].split("</section>")[0]
    numbers = re.findall(r'<td class="num[^"]*">([^<]*)</td>', section)
    assert numbers == ["10", "4", "6", "2", "3", "1", "40.0%"]
    assert ">menunggu</th>" in indonesian
    assert ">lewat batas waktu</th>" in indonesian
    assert ">ditutup tanpa tindak lanjut</th>" in indonesian
    assert "masih dalam batas waktu tindak lanjut" in indonesian
    assert "kasus ditutup sebelum ada sanksi" in indonesian
    assert ">pending</th>" in english
    assert ">overdue</th>" in english
    assert ">closed without follow-up</th>" in english
    assert "the deadline passed unanswered" in english
    assert "the case was closed before any sanction" in english


def test_values_from_the_trail_are_escaped(view: dict[str, Any]) -> None:
    hostile = "<script>alert(1)</script>"
    changed = view | {
        "violation_ratio": [dict(view["violation_ratio"][0], agency=hostile)],
        "catatan_merah": [dict(view["catatan_merah"][0], agency=hostile)],
    }

    page = dashboard_page(changed, "en", NOW)

    assert hostile not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert all(svg is not None for svg in charts_of(page))


def test_a_filter_error_shows_the_form_and_the_reason_only() -> None:
    page = dashboard_page(None, "en", NOW, error="region")

    assert 'role="alert"' in page
    assert "Region must be a Kemendagri code" in page
    assert "<svg" not in page


def test_export_links_carry_the_filters() -> None:
    filters = Filters(election="pilkada-2024", region="33", date_from=date(2024, 4, 1))

    assert export_query(filters) == "?election=pilkada-2024&region=33&from=2024-04-01"
    assert export_query(Filters()) == ""


def test_agencies_show_their_registered_name_beside_their_id(view: dict[str, Any]) -> None:
    agency = view["violation_ratio"][0]["agency"]

    page = dashboard_page(view, "id", NOW, names={agency: "PPK <Kota> Contoh"})

    assert f"PPK &lt;Kota&gt; Contoh <code>{agency}</code>" in page
    assert "PPK <Kota> Contoh" not in page


@pytest.mark.parametrize("figure", ["counts", "handling_times", "violation_ratio", "follow_up"])
def test_each_chart_is_a_standalone_svg_document(view: dict[str, Any], figure: str) -> None:
    english = ET.fromstring(chart_svg(view, figure, "en"))
    indonesian = ET.fromstring(chart_svg(view, figure, "id"))

    assert english.tag == indonesian.tag == f"{SVG}svg"
    assert english.get("role") == "img"
    assert english.find(f"{SVG}title") is not None
    assert english.find(f"{SVG}desc") is not None
    page = dashboard_page(view, "en", NOW)
    bars = re.findall(r"<g data-bar=.*?</g>", chart_svg(view, figure, "en"), re.DOTALL)
    assert bars
    assert all(bar in page for bar in bars)  # the same chart as on the page


@pytest.mark.parametrize("figure", ["counts", "follow_up"])
def test_a_standalone_chart_says_what_it_is_of(view: dict[str, Any], figure: str) -> None:
    filtered = view | {"filters": view["filters"] | {"region": "33", "from": "2024-01-01"}}
    withheld_one = filtered | {"suppression": {"min_cases": 3}}
    withheld_one[figure] = (
        view[figure] | {"received": None, "withheld": ["received"]}
        if figure == "counts"
        else [view[figure][0] | {"follow_up_rate": None, "withheld": ["follow_up_rate"]}]
    )

    english = ET.fromstring(chart_svg(filtered, figure, "en"))
    indonesian = ET.fromstring(chart_svg(withheld_one, figure, "id"))

    caption = [text.text or "" for text in english.iter(f"{SVG}text") if text.get("data-caption")]
    assert caption[0] == view["definitions"][figure]["title"]["en"]
    assert caption[1] == "Filters: Region (Kemendagri code): 33, From: 2024-01-01"
    assert caption[2].startswith("Kawal neutrality dashboard, as of ")
    assert len(caption) == 3  # nothing withheld: no note
    lowest = max(float(text.get("y") or 0) for text in english.iter(f"{SVG}text"))
    assert lowest <= float(english.get("height") or 0)  # the caption is inside the drawing
    said = [text.text for text in indonesian.iter(f"{SVG}text") if text.get("data-caption")]
    assert said[1] == "Saringan: Wilayah (kode Kemendagri): 33, Dari: 2024-01-01"
    # True of every reason code: a chart has no room for each bar's (the page and CSV have).
    assert said[-1] == (
        "Ditahan: angka dari kurang dari 3 kasus tidak diterbitkan, begitu pula angka yang "
        "akan mengungkap angka seperti itu."
    )


def test_chart_links_keep_the_filters_and_the_language() -> None:
    filters = Filters(region="33")

    assert export_query(filters, "en") == "?region=33&lang=en"
    assert export_query(filters, "id") == "?region=33"
    assert export_query(Filters(), "en") == "?lang=en"


def test_the_language_links_keep_the_filters(view: dict[str, Any]) -> None:
    # Before, they were ?lang=en alone: switching language showed the whole country again.
    filtered = dashboard_page(view, "id", NOW, filters=Filters(region="33", election="x"))
    unfiltered = dashboard_page(view, "en", NOW)

    assert 'href="?election=x&amp;region=33&amp;lang=en" hreflang="en"' in filtered
    assert 'href="?election=x&amp;region=33&amp;lang=id" hreflang="id"' in filtered
    assert 'href="?lang=id" hreflang="id"' in unfiltered


@pytest.mark.parametrize(
    ("query", "indonesian"),
    [
        ({"region": "Jawa"}, "Wilayah harus berupa kode Kemendagri"),
        ({"from": "2024-13-01"}, "Tanggal Dari ditulis TTTT-BB-HH"),
        ({"from": "2024-11-02", "to": "2024-11-01"}, "berakhir sebelum dimulai"),
        ({"agency": "PPK Semarang"}, "Instansi ditulis dengan kode huruf kecil"),
    ],
)
def test_a_filter_error_is_told_in_the_pages_language(
    query: dict[str, str | None], indonesian: str
) -> None:
    with pytest.raises(FilterError) as refused:
        parse_filters(query)

    page = dashboard_page(None, "id", NOW, error=refused.value.field)

    assert indonesian in page
    assert "must" not in page


@pytest.mark.parametrize(("locale", "hint"), [("id", "contoh: "), ("en", "e.g. ")])
def test_the_filters_hints_cannot_be_taken_for_filled_values(
    view: dict[str, Any], locale: Locale, hint: str
) -> None:
    page = dashboard_page(view, locale, NOW)

    assert f'placeholder="{hint}33"' in page
    assert f'placeholder="{hint}ppk.3374"' in page
    assert 'placeholder="33"' not in page
