"""End to end in headless Chromium: a report with a photo, then its tracking page, live."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from connectors.lapor.evidence import S3Location
from connectors.lapor.filing import jakarta_today
from connectors.lapor.tracking import TrackingStore
from schemas.identity import case_id_for
from tests.browser import chromium, keep, page_of
from tests.hubtools import RunningHub, registration, verification
from tests.lapor_hub import RunningPortal, feed_event, running_portal
from tests.lapor_support import png

pytestmark = pytest.mark.slow

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def portal(
    hub: RunningHub, location: S3Location, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningPortal]:
    with running_portal(hub, location, tmp_path_factory.mktemp("lapor-chromium")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


class Shots:
    """Screenshots of a test, in its folder and, if set, in ``KAWAL_SCREENSHOT_DIR``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.written: list[Path] = []

    def take(self, page: Page, name: str) -> None:
        path = self.folder / f"lapor-{name}.png"
        page.screenshot(path=path, full_page=True)
        assert path.read_bytes().startswith(PNG_SIGNATURE)
        self.written.append(keep(path))


def submit_report(page: Page, portal: RunningPortal, photo: Path, shots: Shots) -> str:
    """Fill the form as a reporter would, attach the photo, send it; the tracking code."""
    page.goto(portal.base_url + "/")
    assert page.inner_text("h1") == "Laporkan pelanggaran netralitas"
    page.fill("#subject_name", "Budi Canary-Subject")
    page.fill("#subject_nip", "198501012010011001")
    page.select_option("#employing_agency", "ppk.3374")
    page.select_option("#violation", "DISCIPLINE_USE_OF_OFFICE_FACILITIES")
    page.fill("#region_code", "3374")
    page.fill("#discovered_on", jakarta_today(datetime.now(UTC)).isoformat())
    page.fill("#summary", "Mobil dinas dipakai untuk mengangkut peserta kampanye calon nomor 2.")
    page.set_input_files("#evidence", photo)
    shots.take(page, "form-id")
    page.click("button[type=submit]")
    page.wait_for_selector("#tracking-code")
    shots.take(page, "accepted-id")
    return page.inner_text("#tracking-code")


def follow(page: Page, step: str, next_words: str) -> None:
    """Wait until the page shows ``step`` as the current one (the page is never reloaded)."""
    page.wait_for_function(
        "([step, words]) => document.getElementById('current-step').innerText === step && "
        "document.getElementById('next').innerText.includes(words)",
        arg=[step, next_words],
    )


def case_of(hub: RunningHub, portal: RunningPortal, code: str) -> str:
    """The case a tracking code follows, and a check that the photo travelled by reference."""
    store = TrackingStore(portal.spool_dir)
    try:
        tracked = store.follow(code)
    finally:
        store.close()
    assert tracked is not None
    event = feed_event(hub, "bawaslu.33", tracked.case_id, "ReportReceived")
    assert [ref["media_type"] for ref in event["evidence"]] == ["image/png"]
    assert event["channel"] == "WEB_FORM"
    assert tracked.case_id == case_id_for("bawaslu.33", event["case_number"])
    return tracked.case_id


def test_a_report_with_a_photo_is_followed_live_in_chromium(
    hub: RunningHub, portal: RunningPortal, browser: Browser, tmp_path: Path
) -> None:
    shots = Shots(tmp_path)
    photo = tmp_path / "spanduk-kampanye.png"
    photo.write_bytes(png(64, 48, shade=120))

    with page_of(browser, lang="id-ID,id") as page:
        code = submit_report(page, portal, photo, shots)
        page.click("#track-link")
        page.wait_for_selector("#current-step")
        page.evaluate("window.kawalMarker = 'same page'")
        # The hub records the report; Bawaslu's feed reaches the portal's status connector.
        follow(page, "Laporan diterima", "meregistrasinya dalam 3 hari kerja")
        shots.take(page, "tracking-received-id")
        case_id = case_of(hub, portal, code)
        hub.step("ReportRegistered", registration(case_id))
        follow(page, "Laporan diregistrasi", "sedang diverifikasi")
        shots.take(page, "tracking-verifying-id")
        hub.step("VerificationCompleted", verification(case_id))
        follow(page, "Terbukti ada pelanggaran netralitas", "meneruskan hasil kajian")
        shots.take(page, "tracking-proven-id")
        live = page.evaluate("window.kawalMarker")  # the same document all along
        shown = page.inner_text("main")
    with page_of(browser, lang="en") as page:
        page.goto(f"{portal.base_url}/lacak/{code}")
        follow(page, "A neutrality violation was found", "forwards its findings")
        shots.take(page, "tracking-proven-en")
        page.goto(f"{portal.base_url}/")
        english_title = page.inner_text("h1")
        shots.take(page, "form-en")

    assert live == "same page"
    assert "Budi" not in shown
    assert "WIB" in shown  # Semarang's time zone
    assert english_title == "Report a neutrality violation"
    assert [path.name for path in shots.written] == [
        "lapor-form-id.png",
        "lapor-accepted-id.png",
        "lapor-tracking-received-id.png",
        "lapor-tracking-verifying-id.png",
        "lapor-tracking-proven-id.png",
        "lapor-tracking-proven-en.png",
        "lapor-form-en.png",
    ]
    assert all(path.stat().st_size > 10_000 for path in shots.written)
