"""A failure of the pipeline or the sink outside any record stops its process; a restart
catches up.

Faust restarts a failed agent in place by default: the failed batch then stays unacknowledged,
every later commit is held back, and the process handles nothing more while it looks alive.
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
    WAIT_SECONDS,
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
    deadline = time.monotonic() + WAIT_SECONDS
    while child.alive:
        assert time.monotonic() < deadline, f"still running:\n{child.log_tail(40)}"
        time.sleep(0.2)


@pytest.mark.parametrize("failing_role", ["worker", "sink"])
def test_a_failed_batch_stops_its_process_and_a_restart_stores_every_event(
    failing_role: str, own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    ensure_local_keys(Settings(home=home))
    ports = {role: free_port() for role in AGENTS}
    failing = hub_process(
        failing_role,
        home,
        own_broker.url,
        ports[failing_role],
        {"KAWAL_TEST_FAILING_BATCH": str(FAILING_BATCH)},
    )
    failing.argv = [sys.executable, str(FAILING_PROCESS), failing_role]
    other_role = next(role for role in AGENTS if role != failing_role)
    other = hub_process(other_role, home, own_broker.url, ports[other_role])
    publisher = EventPublisher(
        [own_broker.bootstrap_servers], default_codec(), keyring_of(Settings(home=home))
    )
    store = AuditStore(Settings(home=home).audit_url)
    restarted: ChildProcess | None = None
    for child in (failing, other):
        child.start()
    try:
        for role, child in ((failing_role, failing), (other_role, other)):
            wait_healthy(f"http://127.0.0.1:{ports[role]}", child)
        for number in range(1, EVENTS + 1):
            publisher.publish("ReportReceived", report())
            publisher.flush()
            if number < FAILING_BATCH:  # stored before the next is sent: a batch each
                wait_stored(store, number, failing)
        _wait_exit(failing)
        assert failing.returncode == 1
        stop_line = f"the {AGENTS[failing_role]} failed with RuntimeError outside any one record"
        assert stop_line in failing.log_tail(200)
        log_text = failing.log_path.read_text()
        # mode logs "Crashed reason=%r" and the traceback: the type, never the message.
        assert "RuntimeError (message withheld)" in log_text
        assert CANARY not in log_text
        assert store.count() < EVENTS
        restarted = hub_process(failing_role, home, own_broker.url, ports[failing_role])
        restarted.start()
        wait_stored(store, EVENTS, restarted)
        time.sleep(1)  # nothing more than each event once
        assert store.count() == EVENTS
        assert verify_store(store).ok
    finally:
        publisher.close()
        store.close()
        for process in (failing, restarted, other):
            if process is not None:
                process.stop(20)
