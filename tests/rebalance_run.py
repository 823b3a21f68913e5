"""Two workers and the sink under load: a second worker joins, the first is killed and restarted.

Shared by the test in `make test` and the battery in `make battery`. Both workers share the
vault and the audit store on PostgreSQL, as workers on two machines would.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

from streams.local.embedded import EmbeddedBroker
from streams.local.processes import ChildProcess, free_port
from tests.hubtools import (
    QUICK_REJOIN_ENV,
    RunningHub,
    report,
    start_hub,
    until_referral,
    wait_healthy,
)
from tests.hubtools import worker_process as new_worker
from tests.postgres import PostgresServer
from tests.trail_tally import TrailTally

#: What Faust logs each time a rebalance hands a worker its partitions.
ASSIGNED = "newly assigned partitions"
#: Events :class:`Publishing` sends of each case: the report and the three steps to referral.
EVENTS_A_CASE = 4


@dataclass(frozen=True)
class RebalanceOutcome:
    """What a rebalance run left in the trail."""

    tally: TrailTally
    #: Assignments the second worker received (join, take-over, give-back: at least 3).
    moves: int
    events_per_second: float

    def lines(self, prefix: str) -> list[str]:
        """``name: value`` lines of the figures."""
        return [
            *self.tally.lines(prefix),
            f"{prefix}assignments_of_the_second_worker: {self.moves}",
            f"{prefix}events_per_second: {self.events_per_second:.0f}",
        ]


class Publishing(threading.Thread):
    """Publishes ``cases`` cases of four events at ``rate`` a second, keeping each future."""

    def __init__(self, hub: RunningHub, cases: int, rate: float) -> None:
        super().__init__(daemon=True)
        self.hub, self.cases, self.rate = hub, cases, rate
        self.sent: list[tuple[str, Any]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        for _ in range(self.cases):
            first = report("bawaslu.33")
            case_id = first["envelope"]["case_id"]
            events = [("ReportReceived", first), *until_referral(case_id)]
            assert len(events) == EVENTS_A_CASE
            for event_type, record in events:
                if self.stop.is_set():
                    return
                future = self.hub.publisher.publish(event_type, record)
                self.sent.append((record["envelope"]["event_id"], future))
                time.sleep(max(0.0, started + len(self.sent) / self.rate - time.monotonic()))
        self.hub.publisher.flush()

    def accepted(self) -> set[str]:
        """The event ids the broker acknowledged."""
        return {event_id for event_id, future in self.sent if future.succeeded()}


def _wait_more_rows(hub: RunningHub, step: int, published: int, limit: float) -> None:
    """Wait for ``step`` rows more than the store holds now, or for all ``published`` ones.

    On a slow machine publishing may end before a phase does: no more rows than were
    published can ever come.
    """
    _wait_rows(hub, min(hub.store.count() + step, published), limit)


def _wait_rows(hub: RunningHub, rows: int, limit: float) -> None:
    deadline = time.monotonic() + limit
    while hub.store.count() < rows:
        assert time.monotonic() < deadline, f"{hub.store.count()} of {rows} rows"
        time.sleep(0.2)


def _wait_assignments(log: Path, count: int, limit: float) -> None:
    """Wait until the worker logging to ``log`` has been assigned partitions ``count`` times."""
    deadline = time.monotonic() + limit
    while log.read_text().count(ASSIGNED) < count:
        assert time.monotonic() < deadline, f"fewer than {count} assignments in {log}"
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


def rebalance_run(
    broker: EmbeddedBroker,
    postgres: PostgresServer,
    tmp_path: Path,
    cases: int,
    rate: float,
    limit: float,
) -> RebalanceOutcome:
    """Publish ``cases`` cases at ``rate`` while a second worker joins and the first is
    killed and restarted; count what the trail holds."""
    audit = postgres.create_database(f"rebalance_audit_{tmp_path.name}".lower()[:60])
    vault = postgres.create_database(f"rebalance_vault_{tmp_path.name}".lower()[:60])
    env = {"KAWAL_AUDIT_DB_URL": audit, "KAWAL_VAULT_URL": vault, **QUICK_REJOIN_ENV}
    hub = start_hub(broker.url, tmp_path / "first", audit, env, QUICK_REJOIN_ENV)
    step = max(200, cases // 5)
    second: ChildProcess | None = None
    restarted: ChildProcess | None = None
    publishing = Publishing(hub, cases, rate)
    started = time.monotonic()
    try:
        publishing.start()
        _wait_rows(hub, step, limit)
        second, second_url = _worker(hub, tmp_path / "second", broker, env)
        wait_healthy(second_url, second)
        _wait_more_rows(hub, step, cases * EVENTS_A_CASE, limit)  # both workers consume
        second_log = tmp_path / "second" / "worker.log"
        os.kill(hub.worker.pid or 0, signal.SIGKILL)
        # The group notices the kill after its session timeout; then the second takes over.
        _wait_assignments(second_log, 2, limit)
        _wait_more_rows(hub, step, cases * EVENTS_A_CASE, limit)  # the second worker alone
        restarted, restarted_url = _worker(hub, hub.home, broker, env)
        wait_healthy(restarted_url, restarted)
        _wait_assignments(second_log, 3, limit)  # and gives half back
        publishing.join(limit)
        assert not publishing.is_alive(), "publishing did not finish"
        accepted = publishing.accepted()
        _wait_rows(hub, len(accepted), limit)
        elapsed = time.monotonic() - started
        time.sleep(2)  # a duplicate would come now, if any
        # A failed agent stops its worker (streams.app): no rebalance may look like one.
        assert second.alive, "the second worker exited during the rebalances"
        assert restarted.alive, "the restarted worker exited during the rebalances"
        entries = [row for case in hub.store.cases() for row in hub.store.trail(case.case_id)]
    finally:
        publishing.stop.set()
        for worker in (second, restarted):
            if worker is not None:
                worker.stop()
        hub.stop()
    trails = [list(rows) for _, rows in groupby(entries, key=lambda row: row.case_id)]
    log = second_log.read_text()
    return RebalanceOutcome(
        tally=TrailTally.of(accepted, trails),
        moves=log.count(ASSIGNED),
        events_per_second=len(accepted) / elapsed,
    )
