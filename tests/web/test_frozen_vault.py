"""A worker whose data-key vault is frozen answers a trail or case page 503, not never, and stops.

The vault on PostgreSQL of its own, frozen (its processes stopped): a trail read waited on a
pooled connection until it thawed, so the request hung with no answer, metric or log line.
Now the vault's readers give up after its deadline (:mod:`streams.vault.answer_deadline`):
``vault_unavailable`` with ``Retry-After``, no personal data, and the page as before once the
vault answers again.

A batch that asks the frozen vault for keys waited on the database in a thread, and Python
waits at exit for such threads (the pipeline's, the vault check's, the bounded readers'), so
SIGTERM left the worker running until the vault thawed. Those threads are not waited for now;
the transaction the vault never answered is rolled back by its server.

The tests share one worker and sink (a hub start costs a core for a quarter of a minute); the
one that stops the worker leaves it to be started again by the next test that needs it.
"""

from __future__ import annotations

import os
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from streams.local.embedded import EmbeddedBroker
from tests.hubtools import RunningHub, metric_value, problem_of, report, start_hub, wait_healthy
from tests.postgres import PostgresServer
from tests.web.openapi_spec import check_body

pytestmark = pytest.mark.slow

#: Values of the case's personal-data fields (tests.hubtools.report); never in an answer.
PERSONAL = ("Test Reporter", "Test Subject", "198501012010011001")
#: The reads that open a case's data with its key.
PATHS = ("/cases/{case_id}/trail", "/cases/{case_id}")
#: Longest wait for an answer, for the worker to see the frozen vault, and to stop, on a
#: loaded machine (the vault's deadline is 10 s), in seconds.
ROOM = 120.0
#: Seconds between two looks at a change awaited.
POLL = 0.3


@pytest.fixture(scope="module")
def shared_hub(
    module_broker: EmbeddedBroker,
    postgres: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningHub]:
    """A worker and a sink of this file alone, their vault a PostgreSQL database of its own."""
    vault_url = postgres.create_database(f"frozen_vault_{os.getpid()}_{time.monotonic_ns()}")
    home = tmp_path_factory.mktemp("frozen_vault") / "home"
    running = start_hub(module_broker.url, home, worker_env={"KAWAL_VAULT_URL": vault_url})
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def hub(shared_hub: RunningHub) -> RunningHub:
    """The shared hub, its worker started again if a test before stopped it."""
    if not shared_hub.worker.alive:
        shared_hub.worker.start()
        wait_healthy(shared_hub.base_url, shared_hub.worker)
    return shared_hub


def _get(url: str, token: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=ROOM) as response:
            return int(response.status), dict(response.headers), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), dict(exc.headers), bytes(exc.read())


def test_a_frozen_vault_answers_trails_and_case_pages_503_then_serves_them_again(
    hub: RunningHub, postgres: PostgresServer
) -> None:
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
            time.sleep(POLL)
    deadline = time.monotonic() + ROOM
    while (after := [_get(url, token)[0] for url in reads]) != [200, 200]:
        assert time.monotonic() < deadline, after
        time.sleep(POLL)
    # The gauge follows the worker's own look at the vault, which may come after the reads.
    while (vault_up := metric_value(hub.base_url, "kawal_vault_up")) != 1:
        assert time.monotonic() < deadline, vault_up
        time.sleep(POLL)

    for path, (status, headers, body) in zip(PATHS, frozen, strict=True):
        found = problem_of(status, headers, body)
        assert (status, found["reason"]) == (503, "vault_unavailable")
        assert headers["Retry-After"] == "10"
        assert not [value for value in PERSONAL if value in body.decode()]
        check_body(path, status, "application/problem+json", found)
    assert (vault_down, vault_up) == (0, 1)


def test_a_worker_stopped_while_its_vault_is_frozen_exits_before_the_vault_thaws(
    hub: RunningHub, postgres: PostgresServer
) -> None:
    hub.open_case()  # the worker's vault connection stays in its pool
    with postgres.frozen():
        hub.publish("ReportReceived", report(number=f"frozen-{time.monotonic_ns()}"))
        deadline = time.monotonic() + ROOM
        # The batch's query waits on the frozen vault: the gauge falls after its deadline.
        while metric_value(hub.base_url, "kawal_vault_up") != 0:
            assert time.monotonic() < deadline
            time.sleep(POLL)
        assert hub.worker.pid is not None
        os.kill(hub.worker.pid, signal.SIGTERM)
        deadline = time.monotonic() + ROOM
        while (code := hub.worker.returncode) is None and time.monotonic() < deadline:
            time.sleep(POLL)

    assert code is not None, "the worker was still running, waiting on the frozen vault"
