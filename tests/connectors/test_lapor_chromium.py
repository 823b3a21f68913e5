"""End to end in headless Chromium: a report with a photo, then its tracking page, live."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.lapor.evidence import S3Location
from schemas.identity import case_id_for
from tests.cdp import Page, chromium_page
from tests.hubtools import RunningHub, registration, verification
from tests.lapor_hub import RunningPortal, feed_event, running_portal
from tests.lapor_support import png, seaweed_s3

pytestmark = pytest.mark.slow

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def location(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Location]:
    with seaweed_s3(tmp_path_factory.mktemp("chromium-s3")) as found:
        yield found


@pytest.fixture(scope="module")
def portal(
    hub: RunningHub, location: S3Location, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningPortal]:
    with running_portal(hub, location, tmp_path_factory.mktemp("lapor-chromium")) as running:
        yield running


class Shots:
    """Screenshots of a test, in its folder and, if set, in ``KAWAL_SCREENSHOT_DIR``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.written: list[Path] = []

    async def take(self, page: Page, name: str) -> None:
        path = self.folder / f"lapor-{name}.png"
        await page.screenshot(path)
        assert path.read_bytes().startswith(PNG_SIGNATURE)
        self.written.append(path)
        extra = os.environ.get("KAWAL_SCREENSHOT_DIR")
        if extra:
            shutil.copy(path, Path(extra) / path.name)


async def submit_report(page: Page, portal: RunningPortal, photo: Path, shots: Shots) -> str:
    """Fill the form as a reporter would, attach the photo, send it; the tracking code."""
    await page.open(portal.base_url + "/")
    assert await page.text("h1") == "Laporkan pelanggaran netralitas"
    await page.fill(
        {
            "subject_name": "Budi Canary-Subject",
            "subject_nip": "198501012010011001",
            "employing_agency": "ppk.3374",
            "violation": "DISCIPLINE_USE_OF_OFFICE_FACILITIES",
            "region_code": "3374",
            "happened_on": "2024-11-01",
            "summary": "Mobil dinas dipakai untuk mengangkut peserta kampanye calon nomor 2.",
        }
    )
    await page.upload("#evidence", [photo])
    await shots.take(page, "form-id")
    await page.evaluate("document.querySelector('form').requestSubmit()")
    await page.wait_for("document.getElementById('tracking-code') !== null")
    await shots.take(page, "accepted-id")
    return await page.text("#tracking-code")


async def follow(page: Page, step: str, next_words: str) -> None:
    """Wait until the page shows ``step`` as the current one, without reloading it."""
    await page.wait_for(
        f"document.getElementById('current-step').innerText === {step!r} && "
        f"document.getElementById('next').innerText.includes({next_words!r})"
    )


async def scenario(hub: RunningHub, portal: RunningPortal, tmp_path: Path, shots: Shots) -> None:
    photo = tmp_path / "spanduk-kampanye.png"
    photo.write_bytes(png(64, 48, shade=120))
    async with chromium_page(tmp_path / "profile") as page:
        code = await submit_report(page, portal, photo, shots)
        await page.evaluate("document.getElementById('track-link').click()")
        await page.wait_for("document.getElementById('current-step') !== null")
        marker = await page.evaluate("window.kawalMarker = 'same page'")
        assert marker == "same page"

        # The hub records the report; Bawaslu's feed reaches the portal's status connector.
        await follow(page, "Laporan diterima", "meregistrasinya dalam 3 hari kerja")
        await shots.take(page, "tracking-received-id")
        case_id = await asyncio.to_thread(case_of, hub, portal, code)
        await asyncio.to_thread(hub.step, "ReportRegistered", registration(case_id))
        await follow(page, "Laporan diregistrasi", "sedang diverifikasi")
        await shots.take(page, "tracking-verifying-id")
        await asyncio.to_thread(hub.step, "VerificationCompleted", verification(case_id))
        await follow(page, "Terbukti ada pelanggaran netralitas", "meneruskan hasil kajian")
        await shots.take(page, "tracking-proven-id")
        # Updated live: the same document all along, never reloaded.
        assert await page.evaluate("window.kawalMarker") == "same page"
        page_text = await page.text("main")
        assert "Budi" not in page_text
        assert "WIB" in page_text  # Semarang's time zone

        await page.open(f"{portal.base_url}/lacak/{code}?lang=en")
        await follow(page, "A neutrality violation was found", "forwards its findings")
        await shots.take(page, "tracking-proven-en")
        await page.open(f"{portal.base_url}/?lang=en")
        await shots.take(page, "form-en")


def case_of(hub: RunningHub, portal: RunningPortal, code: str) -> str:
    """The case a tracking code follows, and a check that the photo travelled by reference."""
    from connectors.lapor.tracking import TrackingStore  # the portal's own store

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
    hub: RunningHub, portal: RunningPortal, tmp_path: Path
) -> None:
    shots = Shots(tmp_path)

    asyncio.run(scenario(hub, portal, tmp_path, shots))

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
