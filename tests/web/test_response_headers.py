"""The headers every answer of the worker and the sink carries, on the real hub.

A trail read with an institution's token holds names, NIPs and the reporter: no browser or
proxy may keep it (``Cache-Control: no-store``), no page may be framed or have its type
guessed, and a link out of a case's page does not carry the case id in a ``Referer``.
"""

from __future__ import annotations

import pytest

from tests.hubtools import RunningHub, http_request

#: What every answer carries, whatever its status or media type.
EXPECTED = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def test_a_trail_showing_personal_data_is_never_stored_by_a_cache(hub: RunningHub) -> None:
    case_id = hub.open_case("bawaslu.33")
    hub.wait_trail(case_id, 1)
    token = hub.token("bawaslu.33").secret

    status, headers, body = http_request(f"{hub.base_url}/cases/{case_id}/trail", token)

    assert status == 200
    assert b"subject_nip" in body  # the supervisor's view: personal data in clear
    assert {name: headers.get(name) for name in EXPECTED} == EXPECTED


@pytest.mark.parametrize(
    "path", ["/", "/dashboard", "/triage", "/cases/unknown", "/no/such/path", "/health"]
)
def test_every_page_and_error_of_the_worker_has_the_headers(hub: RunningHub, path: str) -> None:
    _, headers, _ = http_request(f"{hub.base_url}{path}")

    assert {name: headers.get(name) for name in EXPECTED} == EXPECTED
    assert "frame-ancestors 'none'" in headers.get("Content-Security-Policy", "")
    assert "script-src" not in headers["Content-Security-Policy"]  # the pages run no script


def test_the_sink_answers_with_the_headers_too(hub: RunningHub) -> None:
    _, headers, _ = http_request(f"{hub.sink_url}/metrics")

    assert {name: headers.get(name) for name in EXPECTED} == EXPECTED
