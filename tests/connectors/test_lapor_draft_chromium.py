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


REPORTER_NAME = "Siti Canary-Reporter"
REPORTER_CONTACT = "0812-5555-0101"


def everything_stored(page: Page) -> str:
    """Every key and value of the tab's session and local storage, as one text."""
    return str(
        page.evaluate(
            "JSON.stringify([Object.entries(window.sessionStorage), "
            "Object.entries(window.localStorage)])"
        )
    )


def fill_identified(page: Page, base_url: str, path: str = "/") -> None:
    page.goto(base_url + path)
    page.uncheck("input[name=anonymous]")
    page.fill("#reporter_name", REPORTER_NAME)
    page.fill("#reporter_contact", REPORTER_CONTACT)
    page.fill("#summary", SUMMARY)


def test_the_reporters_name_and_contact_are_never_kept_in_the_tab(
    browser: Browser, base_url: str
) -> None:
    with page_of(browser) as page:
        fill_identified(page, base_url)
        page.goto(base_url + "/")  # the form fetched again: what a shared phone shows next

        stored = everything_stored(page)
        assert REPORTER_NAME not in stored
        assert REPORTER_CONTACT not in stored
        assert "reporter_" not in stored
        assert page.input_value("#summary") == SUMMARY  # the account survives
        assert page.input_value("#reporter_name") == ""
        assert page.input_value("#reporter_contact") == ""
        assert page.is_checked("input[name=anonymous]")  # back to the safe choice


def test_a_draft_an_older_page_kept_loses_the_reporters_name(
    browser: Browser, base_url: str
) -> None:
    with page_of(browser) as page:
        page.goto(base_url + "/")
        old = {"anonymous": False, "reporter_name": REPORTER_NAME, "summary": SUMMARY}
        page.evaluate(f"window.sessionStorage.setItem({KEY!r}, {json.dumps(json.dumps(old))})")
        page.goto(base_url + "/")

        assert page.input_value("#reporter_name") == ""
        assert REPORTER_NAME not in everything_stored(page)
        assert page.input_value("#summary") == SUMMARY


@pytest.mark.parametrize(("lang", "label"), [("id", "Hapus draf"), ("en", "Clear the draft")])
def test_the_clear_control_forgets_the_draft(
    browser: Browser, base_url: str, lang: str, label: str
) -> None:
    with page_of(browser, lang=lang) as page:
        fill_identified(page, base_url)
        page.once("dialog", lambda dialog: dialog.accept())
        button = page.get_by_role("button", name=label)
        assert button.is_visible()
        with page.expect_navigation():
            button.click()

        # The empty form starts a draft of its own: empty, nothing of the one cleared.
        assert json.loads(page.evaluate(f"window.sessionStorage.getItem({KEY!r})"))["summary"] == ""
        assert SUMMARY not in everything_stored(page)
        assert page.input_value("#summary") == ""
        assert page.input_value("#reporter_name") == ""


def test_the_clear_control_asks_first_and_keeps_the_draft_when_told_not_to(
    browser: Browser, base_url: str
) -> None:
    with page_of(browser) as page:
        fill_identified(page, base_url)
        page.once("dialog", lambda dialog: dialog.dismiss())
        page.click("#clear-draft")

        assert page.input_value("#summary") == SUMMARY
        assert SUMMARY in everything_stored(page)
