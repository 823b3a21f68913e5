"""A query parameter given twice is refused on the real hub, never read as its first value.

``?region=33&region=34`` used to give the figures of region 33 as if both were asked for, and
``/access-log?case=A&case=B`` the reads of case A alone: a script asking for two values took
one value's answer for both.
"""

from __future__ import annotations

import json

import pytest

from tests.hubtools import RunningHub, http_request
from tests.web.openapi_spec import check_body

#: Each JSON answer that narrows by its parameters, its path in docs/openapi.yaml, a query
#: giving one of them twice, and the problem's reason.
ASKS = {
    "figures": ("/dashboard/figures.json", "{path}?region=33&region=34", "invalid_filter"),
    "csv": ("/dashboard/{figure}.csv", "/dashboard/counts.csv?agency=a&agency=b", "invalid_filter"),
    "access log": ("/access-log", "{path}?from=2026-01-01&from=2020-01-01", "invalid_filter"),
    "proof": ("/cases/{case_id}/proof", "/cases/{case_id}/proof?seq=1&seq=2", "bad_query"),
}


@pytest.mark.parametrize("ask", sorted(ASKS))
def test_a_parameter_given_twice_is_refused_saying_which(hub: RunningHub, ask: str) -> None:
    documented, query, reason = ASKS[ask]
    case_id = "00000000-0000-4000-8000-000000000000"
    url = hub.base_url + query.format(path=documented, case_id=case_id)

    status, headers, body = http_request(url, hub.operator_token())

    assert status == 400, body
    assert headers["Content-Type"].startswith("application/problem+json")
    found = json.loads(body)
    assert found["reason"] == reason
    assert "more than once" in found["detail"]
    check_body(documented, 400, "application/problem+json", found)


@pytest.mark.parametrize(("lang", "said"), [("en", "more than once"), ("id", "lebih dari sekali")])
def test_the_dashboard_page_refuses_a_filter_given_twice(
    hub: RunningHub, lang: str, said: str
) -> None:
    url = f"{hub.base_url}/dashboard?election=a&election=b&lang={lang}"

    status, _, page = http_request(url)

    assert status == 400
    assert said in page.decode()


def test_a_language_given_twice_is_no_filter_and_is_taken(hub: RunningHub) -> None:
    status, _, _ = http_request(f"{hub.base_url}/dashboard/figures.json?lang=en&lang=id")

    assert status == 200
