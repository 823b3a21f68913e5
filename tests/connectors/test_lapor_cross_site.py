"""Reports are taken from the portal's own pages and from clients that are no browser only.

Another site must not make its visitors' browsers file reports (each visitor a fresh source
for the rate limits): the form post and the JSON API refuse what a browser says comes from
another site, over real HTTP with a real evidence store and spool.
"""

from __future__ import annotations

import json

import pytest

from connectors.lapor.connector import LaporIntake
from tests.connectors.test_lapor_portal import request
from tests.lapor_support import multipart, report_fields


def post_form(intake: LaporIntake, headers: dict[str, str]) -> tuple[int, str]:
    body, content_type = multipart(report_fields(), [])
    status, _, page = request(
        intake, "POST", "/lapor", body, {"Content-Type": content_type} | headers
    )
    return status, page.decode()


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://elsewhere.example"},
        {"Origin": "https://elsewhere.example"},  # a browser without Sec-Fetch-Site
        {"Origin": "null"},  # a sandboxed frame or a local file
    ],
)
def test_a_form_posted_from_another_site_is_refused_and_kept_nowhere(
    intake: LaporIntake, headers: dict[str, str]
) -> None:
    status, page = post_form(intake, headers)

    assert status == 403
    assert "Laporan hanya diterima dari formulir di situs ini." in page
    assert 'id="tracking-code"' not in page
    assert intake.read(None, 10) == []


def test_the_json_api_refuses_a_fetch_from_another_site(intake: LaporIntake) -> None:
    # A no-cors fetch: text/plain needs no preflight, so the browser sends it as it is.
    headers = {
        "Content-Type": "text/plain",
        "Sec-Fetch-Site": "cross-site",
        "Accept-Language": "en",
    }
    body = json.dumps(report_fields()).encode()

    status, _, answer = request(intake, "POST", "/api/v1/reports", body, headers)

    assert status == 403
    assert json.loads(answer)["error"] == "cross_site"
    assert intake.read(None, 10) == []


def test_the_portals_own_form_and_clients_that_are_no_browser_are_served(
    intake: LaporIntake,
) -> None:
    port = intake.config.listen_port
    own = {"Sec-Fetch-Site": "same-origin", "Origin": f"http://127.0.0.1:{port}"}
    older_browser = {"Origin": f"http://127.0.0.1:{port}"}

    assert post_form(intake, own)[0] == 201
    assert post_form(intake, older_browser)[0] == 201
    assert post_form(intake, {})[0] == 201
    assert len(intake.read(None, 10)) == 3
