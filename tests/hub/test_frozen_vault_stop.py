"""A worker stopped while its data-key vault is frozen stops, instead of waiting for the thaw.

The vault on PostgreSQL of its own, frozen (its processes stopped) while a batch asks it for
keys: the query's thread waited on the database, and Python waits at exit for such threads
(the pipeline's, the vault check's, the bounded readers'), so SIGTERM left the worker
running until the vault thawed. Those threads are not waited for now; the transaction the
vault never answered is rolled back by its server.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from streams.local.embedded import EmbeddedBroker
from tests.hubtools import metric_value, report, start_hub
from tests.postgres import PostgresServer

pytestmark = pytest.mark.slow

#: Longest wait for the worker to see the frozen vault, and to stop, on a loaded machine.
ROOM = 120.0


def test_a_worker_stopped_while_its_vault_is_frozen_exits_before_the_vault_thaws(
    own_broker: EmbeddedBroker, postgres: PostgresServer, tmp_path: Path
) -> None:
    vault_url = postgres.create_database("stopped_vault")
    hub = start_hub(own_broker.url, tmp_path / "home", worker_env={"KAWAL_VAULT_URL": vault_url})
    try:
        hub.open_case()  # the worker's vault connection stays in its pool
        with postgres.frozen():
            hub.publish("ReportReceived", report(number="frozen-1"))
            deadline = time.monotonic() + ROOM
            # The batch's query waits on the frozen vault: the gauge falls after its deadline.
            while metric_value(hub.base_url, "kawal_vault_up") != 0:
                assert time.monotonic() < deadline
                time.sleep(1)
            assert hub.worker.pid is not None
            os.kill(hub.worker.pid, signal.SIGTERM)
            deadline = time.monotonic() + ROOM
            while (code := hub.worker.returncode) is None and time.monotonic() < deadline:
                time.sleep(0.5)
    finally:
        hub.stop()

    assert code is not None, "the worker was still running, waiting on the frozen vault"
