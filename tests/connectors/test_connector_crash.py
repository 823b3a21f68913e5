"""Kill -9 a connector mid-batch and restart it: every record reaches the trail exactly once."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.ids import event_id_for
from connectors.inspektorat.simulator import InspectorateOffice
from streams.audit.tables import AuditRow
from streams.local.processes import ChildProcess
from tests.hubtools import RunningHub

pytestmark = pytest.mark.slow

INSTITUTION = "inspektorat.3374"
BATCHES = 3
ROWS_PER_BATCH = 150
WAIT_SECONDS = 120.0


def _trail_counts(hub: RunningHub, event_ids: set[str]) -> Counter[str]:
    query = select(AuditRow.event_id).where(AuditRow.event_id.in_(event_ids))
    with hub.store.engine.connect() as conn:
        return Counter(str(event_id) for event_id in conn.execute(query).scalars())


def _connector(tmp_path: Path, hub: RunningHub, config: Path, run: int) -> ChildProcess:
    # The institution's connector holds its private key where `kawal keys new` wrote it.
    shutil.copytree(hub.home / "keys", tmp_path / "home" / "keys", dirs_exist_ok=True)
    env = dict(
        os.environ,
        KAWAL_HOME=str(tmp_path / "home"),
        KAWAL_BROKER_URL=f"tansu://{hub.bootstrap[0]}",
        KAWAL_CONNECTOR_METRICS_PORT="0",  # unread here; 6068 may be another process's
    )
    command = [sys.executable, "-m", "streams.cli", "connector", "run", "inspektorat-filedrop"]
    child = ChildProcess(
        "connector", [*command, "--config", str(config)], tmp_path / f"run{run}.log", env=env
    )
    child.start()
    return child


def test_kill_9_mid_batch_then_restart_loses_and_duplicates_nothing(
    hub: RunningHub, tmp_path: Path
) -> None:
    office = InspectorateOffice(tmp_path / "office", seed=random.randrange(1 << 30))
    for number in range(BATCHES):
        office.export_batch(ROWS_PER_BATCH, fmt="csv" if number % 2 else "json")
    expected = {
        event_id_for(INSTITUTION, row["record_id"], "ReportReceived")
        for rows in office.exported().values()
        for row in rows
    }
    config = tmp_path / "inspektorat.toml"
    config.write_text(
        f'institution = "{INSTITUTION}"\ndrop_dir = "{office.share}"\npoll_seconds = 0.2\n'
        f'pseudonym_key_file = "{tmp_path / "pseudonyms.key"}"\n'
    )

    first = _connector(tmp_path, hub, config, 1)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while not _trail_counts(hub, expected):
            assert time.monotonic() < deadline, first.log_tail()
            time.sleep(0.05)
        assert first.pid is not None
        os.kill(first.pid, signal.SIGKILL)
    finally:
        # Reaps the killed connector; stops it if the test failed before the kill, so it does
        # not keep publishing to the session's broker during the tests that follow.
        first.stop(5)
    at_kill = sum(_trail_counts(hub, expected).values())

    second = _connector(tmp_path, hub, config, 2)
    try:
        counts = _trail_counts(hub, expected)
        while set(counts) != expected and time.monotonic() < deadline + WAIT_SECONDS:
            time.sleep(0.5)
            counts = _trail_counts(hub, expected)
    finally:
        second.stop(20)

    assert 0 < at_kill < len(expected), "the kill did not land mid-stream"
    assert set(counts) == expected, f"missing {len(expected - set(counts))}"
    assert max(counts.values()) == 1
    assert office.unreceipted() == []
