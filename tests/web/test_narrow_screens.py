"""The hub's pages fit a 360 px phone: wide tables scroll in their section, not the page.

Measured in Chromium, the front page was 1,021 px wide (its case table) and the dashboard 787
(a 614 px election list, tables of 931 px): a reader on a cheap phone scrolled the whole page
sideways to read a sentence.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.browser import chromium, page_of
from tests.hubtools import RunningHub, report

PHONE = 360


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as found:
        yield found


@pytest.fixture(scope="module")
def cases(hub: RunningHub) -> list[str]:
    found = []
    for _ in range(3):
        record = report("bawaslu.33")
        hub.step("ReportReceived", record)
        found.append(record["envelope"]["case_id"])
    return found


@pytest.mark.parametrize("path", ["/", "/dashboard", "/triage", "/cases/{case}"])
def test_a_page_is_no_wider_than_a_phone(
    hub: RunningHub, cases: list[str], browser: Browser, path: str
) -> None:
    with page_of(browser, hub.operator_token(), width=PHONE) as page:
        page.goto(hub.base_url + path.format(case=cases[0]))
        width = page.evaluate("document.documentElement.scrollWidth")

    assert width <= PHONE, path
