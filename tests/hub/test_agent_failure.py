"""A failure of the pipeline outside any record's step stops the worker; a restart catches up.

Faust restarts a failed agent in place by default: the failed batch then stays unacknowledged,
every later commit is held back, and the worker processes nothing more while it looks alive.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from streams.audit.store import AuditStore
from streams.audit.verify import verify_store
from streams.broker.publisher import EventPublisher
from streams.local.embedded import EmbeddedBroker
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.local.processes import ChildProcess, free_port
from streams.settings import Settings
from tests.hubtools import (
    WAIT_SECONDS,
    default_codec,
    report,
    sink_process,
    wait_healthy,
    wait_stored,
    worker_process,
)

pytestmark = pytest.mark.slow

FAILING_WORKER = Path(__file__).resolve().parents[1] / "failing_worker.py"
EVENTS = 8


def _wait_exit(child: ChildProcess) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while child.alive:
        assert time.monotonic() < deadline, f"still running:\n{child.log_tail(40)}"
        time.sleep(0.2)


def test_a_failed_batch_stops_the_worker_and_its_restart_stores_every_event(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    ensure_local_keys(Settings(home=home))
    port = free_port()
    failing = worker_process(home, own_broker.url, port, {"KAWAL_TEST_FAILING_BATCH": "3"})
    failing.argv = [sys.executable, str(FAILING_WORKER)]
    sink_port = free_port()
    sink = sink_process(home, own_broker.url, sink_port)
    publisher = EventPublisher(
        [own_broker.bootstrap_servers], default_codec(), keyring_of(Settings(home=home))
    )
    store = AuditStore(Settings(home=home).audit_url)
    failing.start()
    sink.start()
    restarted: ChildProcess | None = None
    try:
        wait_healthy(f"http://127.0.0.1:{port}", failing)
        wait_healthy(f"http://127.0.0.1:{sink_port}", sink)
        for _ in range(EVENTS):  # one at a time: a batch each
            publisher.publish("ReportReceived", report())
            publisher.flush()
            time.sleep(0.3)
        _wait_exit(failing)
        assert failing.returncode == 1
        assert "the pipeline failed with RuntimeError outside any one record" in failing.log_tail(
            200
        )
        assert store.count() < EVENTS
        restarted = worker_process(home, own_broker.url, port)
        restarted.start()
        wait_stored(store, EVENTS, restarted)
        time.sleep(1)  # nothing more than each event once
        assert store.count() == EVENTS
        assert verify_store(store).ok
    finally:
        publisher.close()
        store.close()
        for child in (failing, restarted, sink):
            if child is not None:
                child.stop(20)
