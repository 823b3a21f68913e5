"""docs/openapi.yaml: a valid OpenAPI 3.1 document of exactly the routes the hub serves."""

from __future__ import annotations

import json
from pathlib import Path

from openapi_spec_validator import validate

from streams.app import Role, create
from streams.domain.principals import AccessProblem
from streams.local.keyring import ensure_local_keys
from streams.settings import Settings
from tests.hubtools import RunningHub, http_request
from tests.web.openapi_spec import check_body, response, served_by, spec


def test_the_description_is_valid_openapi() -> None:
    validate(spec())


def test_it_lists_exactly_the_routes_of_each_process(tmp_path: Path) -> None:
    # The apps `kawal worker` and `kawal sink` run, built by the same composition root; no
    # broker is reached before start. Faust's own blueprints are added only when it starts.
    settings = Settings(home=tmp_path, broker_url="kafka://127.0.0.1:9")
    ensure_local_keys(settings)
    for role in Role:
        routes = set(create(settings, role).web.views)
        assert routes == served_by(role.value), role


def test_every_access_problem_is_a_documented_reason() -> None:
    reasons = spec()["components"]["schemas"]["Problem"]["properties"]["reason"]["enum"]

    assert {problem.value for problem in AccessProblem} <= set(reasons)
    assert len(reasons) == len(set(reasons))


def test_every_path_answers_as_documented(hub: RunningHub) -> None:
    case_id = hub.open_case()
    for base, process in ((hub.base_url, "worker"), (hub.sink_url, "sink")):
        for path in sorted(served_by(process)):
            url = base + path.format(case_id=case_id, figure="counts")
            status, headers, body = http_request(url)
            media_type = headers["Content-Type"].split(";")[0]
            documented = response(path, status)
            assert documented is not None, (process, path, status)
            assert media_type in documented["content"], (process, path, media_type)
            if media_type.endswith("json"):
                check_body(path, status, media_type, json.loads(body))
