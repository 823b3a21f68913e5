"""A worker whose data-key vault is frozen answers a trail or case page 503, not never.

The vault on PostgreSQL of its own, frozen (its processes stopped): a trail read waited on a
pooled connection until it thawed, so the request hung with no answer, metric or log line.
Now the vault's readers give up after its deadline (:mod:`streams.vault.answer_deadline`):
``vault_unavailable`` with ``Retry-After``, no personal data, and the page as before once the
vault answers again.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from streams.local.embedded import EmbeddedBroker
from tests.hubtools import metric_value, problem_of, start_hub
from tests.postgres import PostgresServer
from tests.web.openapi_spec import check_body

pytestmark = pytest.mark.slow

#: Values of the case's personal-data fields (tests.hubtools.report); never in an answer.
PERSONAL = ("Test Reporter", "Test Subject", "198501012010011001")
#: The reads that open a case's data with its key.
PATHS = ("/cases/{case_id}/trail", "/cases/{case_id}")
#: Longest wait for an answer on a loaded machine (the vault's deadline is 10 s), in seconds.
ROOM = 120.0


def _get(url: str, token: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=ROOM) as response:
            return int(response.status), dict(response.headers), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), dict(exc.headers), bytes(exc.read())


def test_a_frozen_vault_answers_trails_and_case_pages_503_then_serves_them_again(
    own_broker: EmbeddedBroker, postgres: PostgresServer, tmp_path: Path
) -> None:
    vault_url = postgres.create_database("web_vault")
    hub = start_hub(own_broker.url, tmp_path / "home", worker_env={"KAWAL_VAULT_URL": vault_url})
    try:
        case_id = hub.open_case()
        token = hub.operator_token()
        reads = [hub.base_url + path.format(case_id=case_id) for path in PATHS]
        assert [_get(url, token)[0] for url in reads] == [200, 200]
        with postgres.frozen():
            frozen = [_get(url, token) for url in reads]
            # Nothing asks the vault for a batch: the worker's own check sees it stop.
            deadline = time.monotonic() + ROOM
            while (vault_down := metric_value(hub.base_url, "kawal_vault_up")) != 0:
                assert time.monotonic() < deadline, vault_down
                time.sleep(1)
        deadline = time.monotonic() + ROOM
        while (after := [_get(url, token)[0] for url in reads]) != [200, 200]:
            assert time.monotonic() < deadline, after
            time.sleep(1)
        vault_up = metric_value(hub.base_url, "kawal_vault_up")
    finally:
        hub.stop()

    for path, (status, headers, body) in zip(PATHS, frozen, strict=True):
        found = problem_of(status, headers, body)
        assert (status, found["reason"]) == (503, "vault_unavailable")
        assert headers["Retry-After"] == "10"
        assert not [value for value in PERSONAL if value in body.decode()]
        check_body(path, status, "application/problem+json", found)
    assert (vault_down, vault_up) == (0, 1)
