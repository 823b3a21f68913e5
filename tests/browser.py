"""Headless Chromium for the page tests, driven by Playwright on the system's browser.

The Debian ``chromium`` package is the browser (``make system-deps`` installs it); Playwright
only drives it, so nothing is downloaded. Pages that need a credential get it as the
``Authorization`` header an identity-aware proxy would add. Screenshots are written in each
test's folder and, with ``KAWAL_SCREENSHOT_DIR`` set, copied there for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

#: Generous for a cold start on a busy test machine, in milliseconds.
TIMEOUT_MS = 60_000


@contextmanager
def chromium() -> Iterator[Browser]:
    """The system's Chromium, headless, for the duration of the block."""
    binary = shutil.which("chromium")
    assert binary is not None, "chromium is not installed: run `make system-deps` as root"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=binary, args=["--no-sandbox", "--disable-gpu"], timeout=TIMEOUT_MS
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def page_of(
    browser: Browser, token: str | None = None, lang: str = "id", width: int = 1280
) -> Iterator[Page]:
    """A fresh page (its own cookies) sending ``token``, preferring ``lang``, ``width`` wide."""
    headers = {"Accept-Language": lang}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    context = browser.new_context(
        extra_http_headers=headers, viewport={"width": width, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def keep(screenshot: Path) -> Path:
    """Copy ``screenshot`` to ``KAWAL_SCREENSHOT_DIR`` when it is set; the screenshot."""
    folder = os.environ.get("KAWAL_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(folder) / screenshot.name)
    return screenshot
