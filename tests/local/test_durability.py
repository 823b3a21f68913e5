"""Kill -9 everything mid-stream, restart `kawal up`: every accepted event is in the trail once.

"Accepted" means acknowledged by the broker (acks=all) to the publishing institution.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from itertools import groupby
from pathlib import Path

import pytest

from streams.audit.store import AuditStore
from streams.broker.endpoint import parse_broker_url
from streams.broker.publisher import EventPublisher
from streams.domain.chain import verify_chain
from streams.local.keyring import keyring_of
from streams.local.processes import free_port
from streams.local.storage import free_storage_base_port
from streams.settings import Settings
from tests.hubtools import (
    QUICK_REJOIN_ENV,
    default_codec,
    pid_running,
    report,
    start_up,
    until_referral,
    up_env,
)

pytestmark = pytest.mark.slow

CASES = 300  # four events each, all from one supervisor, so each case's order is its own
RECOVERY_SECONDS = 120.0


def _publish_cases(bootstrap: list[str], home: Path) -> set[str]:
    """Publish every event, wait for the broker's acks; return the acknowledged event ids."""
    publisher = EventPublisher(bootstrap, default_codec(), keyring_of(Settings(home=home)))
    futures = []
    for _ in range(CASES):
        first = report("bawaslu.33")
        case_id = first["envelope"]["case_id"]
        for event_type, record in [("ReportReceived", first), *until_referral(case_id)]:
            futures.append((record["envelope"]["event_id"], publisher.publish(event_type, record)))
    publisher.flush()
    publisher.producer.close()
    return {event_id for event_id, future in futures if future.succeeded()}


def _kill_all(pids: list[int]) -> None:
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(pid_running(pid) for pid in pids):
        assert time.monotonic() < deadline, "processes survived SIGKILL"
        time.sleep(0.05)


def _wait_for_rows(store: AuditStore, expected: int) -> int:
    deadline = time.monotonic() + RECOVERY_SECONDS
    count = store.count()
    while count < expected and time.monotonic() < deadline:
        time.sleep(0.5)
        count = store.count()
    return count


def test_kill_9_mid_stream_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = up_env(home, free_port(), free_port(), free_storage_base_port()) | QUICK_REJOIN_ENV
    first = start_up(home, env, name="first")
    try:
        first.wait_healthy()
        bootstrap = parse_broker_url(f"tansu://127.0.0.1:{first.broker_port}").bootstrap
        store = AuditStore(Settings(home=home).audit_url)

        accepted = _publish_cases(bootstrap, home)
        _kill_all([*first.children(), first.process.pid])
    finally:
        # Already killed, unless the test failed before: then it must not outlive the test.
        first.stop(30)
    rows_at_kill = store.count()

    second = start_up(home, env, name="second")
    try:
        second.wait_healthy(RECOVERY_SECONDS)
        rows = _wait_for_rows(store, len(accepted))
        entries = [row for case in store.cases() for row in store.trail(case.case_id)]
    finally:
        second.stop(30)
        store.close()

    assert len(accepted) == CASES * 4
    assert rows_at_kill < len(accepted), "the kill did not land mid-stream"
    per_event = Counter(row.event_id for row in entries)
    assert set(per_event) == accepted, f"{rows} rows; missing {len(accepted - set(per_event))}"
    assert max(per_event.values()) == 1
    for case_id, case_rows in groupby(entries, key=lambda row: row.case_id):
        assert verify_chain(list(case_rows)) is None, case_id
