"""A hub whose retention rule keeps personal data no time after closing erases a case on its own.

A worker and an audit sink of their own, on a broker of their own (the session hub keeps the
bundled five years), look for due cases every second.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from streams.audit.store import AuditRow, AuditStore
from streams.broker.publisher import EventPublisher
from streams.domain.erasure import ERASURE_EVENT, erasure_event_id
from streams.local.embedded import EmbeddedBroker
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.local.processes import ChildProcess, free_port
from streams.settings import Settings
from streams.vault.data_keys import DataKeyVault
from streams.vault.kek_source import load_kek_ring
from tests.disclosure_case import closed
from tests.hubtools import (
    WAIT_SECONDS,
    default_codec,
    institution_view,
    metric_value,
    registration,
    report,
    sink_process,
    verification,
    wait_healthy,
    worker_process,
)

pytestmark = pytest.mark.slow

RULES = """\
[[rule]]
id = "at_closing"
after = "closed"
days = 0
legal_source = "test rule"
why = "erase as soon as the case is closed"
"""
PERSONAL = ("Test Reporter", "Test Subject", "198501012010011001", "Shared campaign material.")
#: When the timer last began a look that left no case due.
CAUGHT_UP = "kawal_retention_caught_up_timestamp_seconds"


@dataclass
class RetentionHub:
    """The worker, the sink, their home and a publisher."""

    home: Path
    worker: ChildProcess
    sink: ChildProcess
    store: AuditStore
    publisher: EventPublisher
    worker_url: str

    def publish(self, *steps: tuple[str, dict[str, Any]]) -> None:
        for event_type, record in steps:
            self.publisher.publish(event_type, record)
        self.publisher.flush()

    def wait_for(self, case_id: str, event_type: str) -> list[AuditRow]:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            rows = self.store.trail(case_id)
            if event_type in [row.event_type for row in rows]:
                return rows
            time.sleep(0.2)
        raise AssertionError(f"no {event_type}\n{self.worker.log_tail(40)}")

    def wait_caught_up(self, looks: int) -> None:
        """Wait for ``looks`` more looks of the timer, begun from now, that left nothing due.

        What a test that nothing was erased (or nothing twice) waits for, rather than a sleep
        a loaded machine might not give the timer a look in.
        """
        since = time.time()
        deadline = time.monotonic() + WAIT_SECONDS
        while metric_value(self.worker_url, CAUGHT_UP) < since + looks - 1:
            assert time.monotonic() < deadline, f"no look caught up\n{self.worker.log_tail(40)}"
            time.sleep(0.2)


@pytest.fixture
def retention_hub(own_broker: EmbeddedBroker, tmp_path: Path) -> Iterator[RetentionHub]:
    home = tmp_path / "home"
    rules = tmp_path / "retention.toml"
    rules.write_text(RULES)
    ensure_local_keys(Settings(home=home))
    web, sink_port = free_port(), free_port()
    worker = worker_process(
        home,
        own_broker.url,
        web,
        {"KAWAL_RETENTION_FILE": str(rules), "KAWAL_RETENTION_CHECK_SECONDS": "1"},
    )
    sink = sink_process(home, own_broker.url, sink_port)
    worker.start()
    sink.start()
    keys = keyring_of(Settings(home=home))
    publisher = EventPublisher([own_broker.bootstrap_servers], default_codec(), keys)
    store = AuditStore(Settings(home=home).audit_url)
    try:
        wait_healthy(f"http://127.0.0.1:{web}", worker)
        wait_healthy(f"http://127.0.0.1:{sink_port}", sink)
        yield RetentionHub(home, worker, sink, store, publisher, f"http://127.0.0.1:{web}")
    finally:
        publisher.close()
        store.close()
        worker.stop(20)
        sink.stop(20)


def test_a_case_is_erased_by_its_retention_rule_once_closed(retention_hub: RetentionHub) -> None:
    hub = retention_hub
    first, other = report(), report()
    case_id, open_id = first["envelope"]["case_id"], other["envelope"]["case_id"]
    hub.publish(
        ("ReportReceived", first),
        ("ReportReceived", other),
        ("ReportRegistered", registration(case_id)),
        ("VerificationCompleted", verification(case_id, proven=False)),
    )
    hub.wait_for(case_id, "VerificationCompleted")
    settings = Settings(home=hub.home)
    vault = DataKeyVault.open_existing(settings.effective_vault_url, load_kek_ring(settings))
    try:
        # What KawalRetentionBehind counts its three looks in.
        assert metric_value(hub.worker_url, 'kawal_timer_interval_seconds{timer="retention"}') == 1
        # Not closed yet: a rule counted from closing leaves it alone, whatever its period.
        hub.wait_caught_up(looks=2)
        assert vault.tombstone(case_id) is None

        hub.publish(closed(case_id, reason="NOT_PROVEN"))
        rows = hub.wait_for(case_id, ERASURE_EVENT)

        tombstone = vault.tombstone(case_id)
        view = _view(hub, case_id, vault)
        assert vault.tombstone(open_id) is None
    finally:
        vault.close()
    assert tombstone is not None
    assert "rule at_closing" in tombstone.reason
    [erasure] = [row for row in rows if row.event_type == ERASURE_EVENT]
    assert erasure.event_id == erasure_event_id(case_id)
    assert erasure.source_topic == "kawal.inbound.kawal"
    event = default_codec().decode(erasure.event).record
    assert (event["retention_rule"], event["envelope"]["actor_ref"]) == (
        "at_closing",
        "kawal:retention-timer",
    )
    assert view["verified"] is True, view["problem"]
    assert not [value for value in PERSONAL if value in json.dumps(view)]
    hub.wait_caught_up(looks=2)  # more looks: the case is erased once
    assert [row.event_type for row in hub.store.trail(case_id)].count(ERASURE_EVENT) == 1


def _view(hub: RetentionHub, case_id: str, vault: DataKeyVault) -> dict[str, Any]:
    return institution_view(hub.store, hub.home, case_id, vault, "bawaslu.33")
