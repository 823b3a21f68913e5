"""In headless Chromium: the form's text survives a failed send, never its files or a sent one.

The form is no-store, so a browser fetches it again empty on going back; the form's script
(``/static/draft.js``) keeps the text fields in the tab's session storage and puts them back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from connectors.lapor.evidence import S3Location
from connectors.lapor.filing import jakarta_today
from tests.browser import chromium, page_of
from tests.connectors.test_lapor_portal import opened_intake

pytestmark = pytest.mark.slow

KEY = "kawal.lapor.draft"
SUMMARY = "Camat memakai mobil dinas untuk kampanye calon nomor 2 di Tembalang."


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.fixture
def base_url(location: S3Location, tmp_path: Path) -> Iterator[str]:
    with opened_intake(location, tmp_path / "spool") as connector:
        yield f"http://127.0.0.1:{connector.config.listen_port}"


def fill(page: Page, base_url: str, photo: Path) -> None:
    page.goto(base_url + "/")
    page.fill("#subject_nip", "198501012010011001")
    page.select_option("#employing_agency", "ppk.3374")
    page.select_option("#violation", "DISCIPLINE_USE_OF_OFFICE_FACILITIES")
    page.fill("#discovered_on", jakarta_today(datetime.now(UTC)).isoformat())
    page.fill("#summary", SUMMARY)
    page.set_input_files("#evidence", photo)


def test_the_text_comes_back_after_leaving_the_form_and_the_files_never(
    browser: Browser, base_url: str, tmp_path: Path
) -> None:
    photo = tmp_path / "IMG_20261204_190512.txt"
    photo.write_text("obrolan grup kantor\n")
    with page_of(browser) as page:
        fill(page, base_url, photo)
        page.goto(base_url + "/lacak")  # a send cut off: the page after it is another one
        # The form fetched again, as a browser does going back to a no-store page (Chromium
        # may restore it from its own cache instead, files and all: nothing to test then).
        page.goto(base_url + "/")

        assert page.input_value("#summary") == SUMMARY
        assert page.input_value("#subject_nip") == "198501012010011001"
        assert page.input_value("#employing_agency") == "ppk.3374"
        assert page.eval_on_selector("#evidence", "field => field.files.length") == 0
        stored = page.evaluate(f"window.sessionStorage.getItem({KEY!r})")
        assert "IMG_20261204" not in stored
        assert "evidence" not in json.loads(stored)


def test_a_report_sent_leaves_no_draft(browser: Browser, base_url: str, tmp_path: Path) -> None:
    photo = tmp_path / "chat.txt"
    photo.write_text("obrolan grup kantor\n")
    with page_of(browser) as page:
        fill(page, base_url, photo)
        page.click("button[type=submit]")
        page.wait_for_selector("#tracking-code")

        assert page.evaluate(f"window.sessionStorage.getItem({KEY!r})") is None
        page.goto(base_url + "/")
        assert page.input_value("#summary") == ""


@pytest.mark.parametrize("path", ["/", "/lacak", "/?lang=en"])
def test_no_page_runs_past_the_right_edge_of_a_phone(
    browser: Browser, base_url: str, path: str
) -> None:
    with page_of(browser, width=390) as page:
        page.goto(base_url + path)

        assert page.evaluate("document.documentElement.scrollWidth") <= 390
