"""An address or a method no route serves is a problem document, as every view's refusal.

aiohttp answers both itself, in plain text; the hub's processes answer ``no_such_route`` (404)
and ``method_not_allowed`` (405, with the methods the address takes in ``Allow``), so a script
matches them on their reason code like any other refusal. A view's own 404 keeps its reason.
"""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from openapi_schema_validator import OAS31Validator

from tests.hubtools import RunningHub, http_request, problem_of
from tests.web.openapi_spec import spec


def documented_problem(document: dict[str, object]) -> None:
    """Fail unless ``document`` is a Problem of docs/openapi.yaml, its reason listed there."""
    schema = {"components": spec()["components"], "$ref": "#/components/schemas/Problem"}
    assert [error.message for error in OAS31Validator(schema).iter_errors(document)] == []


@pytest.mark.parametrize("server", ["worker", "sink"])
def test_an_address_no_route_has_is_a_no_such_route_problem(hub: RunningHub, server: str) -> None:
    base = hub.base_url if server == "worker" else hub.sink_url

    status, headers, body = http_request(f"{base}/cases")
    found = problem_of(status, headers, body)

    assert (status, found["reason"]) == (404, "no_such_route")
    assert "docs/openapi.yaml" in found["detail"]
    documented_problem(found)
    assert headers["X-Frame-Options"] == "DENY"  # still every answer's headers


def test_the_sink_has_no_index(hub: RunningHub) -> None:
    # Before, Faust's own index answered 200 {"status": "OK"}, an address the docs do not have.
    status, headers, body = http_request(f"{hub.sink_url}/")
    found = problem_of(status, headers, body)

    assert (status, found["reason"]) == (404, "no_such_route")
    documented_problem(found)


def test_a_method_the_address_does_not_take_names_those_it_takes(hub: RunningHub) -> None:
    request = urllib.request.Request(f"{hub.base_url}/dashboard", data=b"x=1", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    status, headers = refused.value.code, dict(refused.value.headers)
    found = problem_of(status, headers, refused.value.read())

    assert (status, found["reason"]) == (405, "method_not_allowed")
    assert headers["Allow"] == "GET,HEAD"
    assert found["detail"].startswith("this address takes GET, HEAD;")
    documented_problem(found)


def test_a_views_own_not_found_keeps_its_reason(hub: RunningHub) -> None:
    status, headers, body = http_request(f"{hub.base_url}/dashboard/everything.csv")

    assert problem_of(status, headers, body)["reason"] == "no_such_figure"
