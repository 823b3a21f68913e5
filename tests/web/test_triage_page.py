"""``GET /triage`` on the real hub: who may see it, what it lists, as a browser shows it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from streams.domain.principals import PrincipalRole
from tests.browser import chromium, keep, page_of
from tests.hubtools import RunningHub, http_request, report

#: Every personal-data value of the reports (tests.hubtools.report): never on the view.
PERSONAL = ("Test Reporter", "Test Subject", "198501012010011001")


@dataclass(frozen=True)
class Reports:
    """Two open reports of bawaslu.33, a serious one and an ethics one."""

    heavy: str
    ethics: str


@pytest.fixture(scope="module")
def reports(hub: RunningHub) -> Reports:
    found = {}
    for violation in ("DISCIPLINE_USE_OF_OFFICE_FACILITIES", "ETHICS_BANNER"):
        record = report("bawaslu.33") | {"violation": violation}
        found[violation] = record["envelope"]["case_id"]
        hub.step("ReportReceived", record)
    return Reports(found["DISCIPLINE_USE_OF_OFFICE_FACILITIES"], found["ETHICS_BANNER"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as found:
        yield found


def get(hub: RunningHub, path: str, token: str | None = None) -> tuple[int, bytes]:
    status, _, body = http_request(f"{hub.base_url}{path}", token, {})
    return status, body


def reported(hub: RunningHub, token: str) -> list[str]:
    status, body = get(hub, "/triage?format=json", token)
    assert status == 200, body
    return [row["case_id"] for row in json.loads(body)["reports"]]


def test_the_supervisor_sees_its_reports_most_serious_first(
    hub: RunningHub, reports: Reports
) -> None:
    listed = reported(hub, hub.token("bawaslu.33").secret)

    assert reports.heavy in listed
    assert reports.ethics in listed
    assert listed.index(reports.heavy) < listed.index(reports.ethics)


def test_the_national_supervisor_and_operators_see_them_too(
    hub: RunningHub, reports: Reports
) -> None:
    national = reported(hub, hub.token("bawaslu").secret)
    operator = reported(hub, hub.token("ops.tri", PrincipalRole.OPERATOR).secret)

    assert {reports.heavy, reports.ethics} <= set(national)
    assert {reports.heavy, reports.ethics} <= set(operator)


@pytest.mark.parametrize(
    ("principal", "status", "reason"),
    [(None, 401, "authentication_required"), ("ppk.3374", 403, "not_entitled"),
     ("bkn", 403, "not_entitled")],
)  # fmt: skip
def test_others_are_refused_with_a_reason(
    hub: RunningHub, reports: Reports, principal: str | None, status: int, reason: str
) -> None:
    token = hub.token(principal).secret if principal else None

    got, body = get(hub, "/triage?format=json", token)

    assert (got, json.loads(body)["reason"]) == (status, reason)
    assert reports.heavy not in body.decode()


@pytest.mark.parametrize(
    ("lang", "said"), [("id", "Diperlukan kredensial"), ("en", "A credential")]
)
def test_a_browser_following_the_link_without_a_credential_gets_a_page(
    hub: RunningHub, reports: Reports, lang: str, said: str
) -> None:
    # Every page links the triage: a person following it got English JSON.
    status, headers, body = http_request(f"{hub.base_url}/triage?lang={lang}", None, {})

    page = body.decode()
    assert status == 401
    assert headers["Content-Type"].startswith("text/html")
    assert headers["WWW-Authenticate"] == 'Bearer realm="kawal"'
    assert said in page
    assert f'<html lang="{lang}">' in page
    assert reports.heavy not in page


@pytest.mark.parametrize(
    ("lang", "heavy", "ethics", "title"),
    [("id", "Berat", "Etik", "Triase laporan"), ("en", "Serious", "Ethics", "Triage of reports")],
)
def test_chromium_shows_the_triage_in_each_language(
    hub: RunningHub,
    reports: Reports,
    browser: Browser,
    tmp_path: Path,
    lang: str,
    heavy: str,
    ethics: str,
    title: str,
) -> None:
    with page_of(browser, hub.token("bawaslu.33").secret, lang) as page:
        page.goto(f"{hub.base_url}/triage")
        page.screenshot(path=tmp_path / f"triage-{lang}.png", full_page=True)
        keep(tmp_path / f"triage-{lang}.png")
        html = page.content()
        heavy_row = page.inner_text(f'tr[data-case="{reports.heavy}"]')
        ethics_row = page.inner_text(f'tr[data-case="{reports.ethics}"]')

    assert page.url.endswith("/triage")
    assert title in html
    assert heavy in heavy_row
    assert ethics in ethics_row
    assert (tmp_path / f"triage-{lang}.png").stat().st_size > 10_000
    assert not [value for value in PERSONAL if value in html]
