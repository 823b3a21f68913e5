"""A failure of the pipeline or the sink outside any record stops its process; a restart
catches up.

Faust restarts a failed agent in place by default: the failed batch then stays unacknowledged,
every later commit is held back, and the process handles nothing more while it looks alive.

One run shows it for both, each in turn: a worker and a sink that each fail at their third
batch (a hub's two processes started once, not once per role). The worker fails first, on the
events after the first two; once it is started again, what it sends makes the sink's third
batch, which fails; once the sink is started again, every event is stored, each once.
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
from tests.failing_process import CANARY
from tests.hubtools import (
    QUICK_REJOIN_ENV,
    START_SECONDS,
    default_codec,
    hub_process,
    report,
    wait_healthy,
    wait_stored,
)

pytestmark = pytest.mark.slow

FAILING_PROCESS = Path(__file__).resolve().parents[1] / "failing_process.py"
#: What each role's agent calls itself in the log line of its stop.
AGENTS = {"worker": "pipeline", "sink": "audit sink"}
EVENTS = 8
#: The batch the failing process fails at: the events before it are each a batch of their own.
FAILING_BATCH = 3


def _wait_exit(child: ChildProcess) -> None:
    # Room for the start of the process whose events make the failing batch (the sink's).
    deadline = time.monotonic() + START_SECONDS
    while child.alive:
        assert time.monotonic() < deadline, f"still running:\n{child.log_tail(40)}"
        time.sleep(0.2)


def _assert_stopped_on_its_failure(role: str, child: ChildProcess, store: AuditStore) -> None:
    """``child`` of ``role`` ended on its failed batch, saying so without the failure's text."""
    _wait_exit(child)
    assert child.returncode == 1, role
    stop_line = f"the {AGENTS[role]} failed with RuntimeError outside any one record"
    assert stop_line in child.log_tail(200)
    log_text = child.log_path.read_text()
    # mode logs "Crashed reason=%r" and the traceback: the type, never the message.
    assert "RuntimeError (message withheld)" in log_text
    assert CANARY not in log_text
    assert store.count() < EVENTS


def test_a_failed_batch_stops_the_worker_and_the_sink_and_a_restart_stores_every_event(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    ensure_local_keys(Settings(home=home))
    ports = {role: free_port() for role in AGENTS}
    # A failed process leaves its group without a word: its restart waits out its session.
    env = QUICK_REJOIN_ENV | {"KAWAL_TEST_FAILING_BATCH": str(FAILING_BATCH)}
    failing = {role: hub_process(role, home, own_broker.url, ports[role], env) for role in AGENTS}
    for role, child in failing.items():
        child.argv = [sys.executable, str(FAILING_PROCESS), role]
    publisher = EventPublisher(
        [own_broker.bootstrap_servers], default_codec(), keyring_of(Settings(home=home))
    )
    store = AuditStore(Settings(home=home).audit_url)
    restarted: list[ChildProcess] = []
    for child in failing.values():
        child.start()
    try:
        for role, child in failing.items():
            wait_healthy(f"http://127.0.0.1:{ports[role]}", child)
        for number in range(1, EVENTS + 1):
            publisher.publish("ReportReceived", report())
            publisher.flush()
            if number < FAILING_BATCH:  # stored before the next is sent: a batch each
                wait_stored(store, number, failing["worker"])
        for role in AGENTS:
            _assert_stopped_on_its_failure(role, failing[role], store)
            restarted.append(hub_process(role, home, own_broker.url, ports[role], QUICK_REJOIN_ENV))
            restarted[-1].start()
        wait_stored(store, EVENTS, restarted[-1])
        time.sleep(1)  # nothing more than each event once
        assert store.count() == EVENTS
        assert verify_store(store).ok
    finally:
        publisher.close()
        store.close()
        for process in (*failing.values(), *restarted):
            process.stop(20)
