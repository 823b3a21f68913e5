"""Two workers and the sink on the embedded broker: a rebalance loses and duplicates nothing.

While an institution publishes, a second worker joins the group, the first is killed (SIGKILL)
and started again: the partitions move to the second worker and back, the case table is
recovered from its changelog on each move, and still every acknowledged event is in the trail
exactly once and every chain verifies. Both workers share the vault and the audit store on
PostgreSQL, as workers on two machines would.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections import Counter
from itertools import groupby
from pathlib import Path
from typing import Any

import pytest

from streams.domain.chain import verify_chain
from streams.local.embedded import EmbeddedBroker
from streams.local.processes import ChildProcess, free_port
from tests.hubtools import RunningHub, report, start_hub, until_referral, wait_healthy
from tests.hubtools import worker_process as new_worker
from tests.postgres import PostgresServer

pytestmark = pytest.mark.slow

CASES = 400  # four events each: 1,600 events
#: Events a second, so that publishing spans the join, the kill and the restart.
RATE = 40.0
FINISH_SECONDS = 240.0


class Publishing(threading.Thread):
    """Publishes the run's events at :data:`RATE`, keeping each one's broker future."""

    def __init__(self, hub: RunningHub) -> None:
        super().__init__(daemon=True)
        self.hub = hub
        self.sent: list[tuple[str, Any]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        for _ in range(CASES):
            first = report("bawaslu.33")
            case_id = first["envelope"]["case_id"]
            for event_type, record in [("ReportReceived", first), *until_referral(case_id)]:
                if self.stop.is_set():
                    return
                future = self.hub.publisher.publish(event_type, record)
                self.sent.append((record["envelope"]["event_id"], future))
                time.sleep(max(0.0, started + len(self.sent) / RATE - time.monotonic()))
        self.hub.publisher.flush()

    def accepted(self) -> set[str]:
        """The event ids the broker acknowledged."""
        return {event_id for event_id, future in self.sent if future.succeeded()}


def _wait_rows(hub: RunningHub, rows: int) -> None:
    deadline = time.monotonic() + FINISH_SECONDS
    while hub.store.count() < rows:
        assert time.monotonic() < deadline, f"{hub.store.count()} of {rows} rows"
        time.sleep(0.2)


def _worker(
    hub: RunningHub, home: Path, broker: EmbeddedBroker, env: dict[str, str]
) -> tuple[ChildProcess, str]:
    """A worker with a home of its own holding the first one's keys, started."""
    if not home.exists():
        home.mkdir()
        shutil.copytree(hub.home / "keys", home / "keys")
    port = free_port()
    worker = new_worker(home, broker.url, port, env)
    worker.start()
    return worker, f"http://127.0.0.1:{port}"


def test_a_second_worker_a_kill_and_a_restart_lose_and_duplicate_nothing(
    own_broker: EmbeddedBroker, postgres: PostgresServer, tmp_path: Path
) -> None:
    audit = postgres.create_database("rebalance_audit")
    env = {
        "KAWAL_AUDIT_DB_URL": audit,
        "KAWAL_VAULT_URL": postgres.create_database("rebalance_vault"),
    }
    hub = start_hub(own_broker.url, tmp_path / "first", audit, env)
    second: ChildProcess | None = None
    restarted: ChildProcess | None = None
    publishing = Publishing(hub)
    try:
        publishing.start()
        _wait_rows(hub, 200)
        second, second_url = _worker(hub, tmp_path / "second", own_broker, env)
        wait_healthy(second_url, second)
        _wait_rows(hub, hub.store.count() + 200)  # both workers consume
        os.kill(hub.worker.pid or 0, signal.SIGKILL)
        _wait_rows(hub, hub.store.count() + 200)  # the second worker alone
        restarted, restarted_url = _worker(hub, hub.home, own_broker, env)
        wait_healthy(restarted_url, restarted)
        publishing.join(FINISH_SECONDS)
        assert not publishing.is_alive(), "publishing did not finish"
        accepted = publishing.accepted()
        _wait_rows(hub, len(accepted))
        time.sleep(2)  # a duplicate would come now, if any
        entries = [row for case in hub.store.cases() for row in hub.store.trail(case.case_id)]
    finally:
        publishing.stop.set()
        for worker in (second, restarted):
            if worker is not None:
                worker.stop()
        hub.stop()

    # The second worker took half the partitions, then all of them, then gave half back.
    moves = (tmp_path / "second" / "worker.log").read_text().count("newly assigned partitions")
    assert moves >= 3, moves
    assert len(accepted) == CASES * 4
    per_event = Counter(row.event_id for row in entries)
    assert set(per_event) == accepted, f"missing {len(accepted - set(per_event))}"
    assert max(per_event.values()) == 1
    for case_id, rows in groupby(entries, key=lambda row: row.case_id):
        assert verify_chain(list(rows)) is None, case_id
