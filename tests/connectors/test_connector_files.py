"""What the runtime keeps for a connector on disk, and when a connector's copies expire.

Checkpoints and feed chains are private to the hub's user (0600 in 0700 folders). The runtime
asks a connector to delete what is past its retention once at start, then at most every
interval; the clock is moved on, not waited for.
"""

from __future__ import annotations

import logging
import stat
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.base import (
    ConnectorConfig,
    ConnectorContext,
    Event,
    InboundConnector,
    SourceRecord,
)
from connectors.expiry import EXPIRY_INTERVAL, ExpirySchedule
from connectors.feed_chains import FeedChains
from connectors.host import run_connector
from connectors.signed_fixtures import contract_keyring
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.broker.checkpoints import CheckpointStore
from tests.clocks import ManualClock

START = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


class Keeping(InboundConnector[ConnectorConfig]):
    """A connector with nothing to read that keeps copies: it notes when they expire.

    ``fail`` makes every expiry raise, as a share that failed mid-cleanup would.
    """

    name = "keeping"

    def __init__(self, *, fail: bool = False) -> None:
        catalog = default_catalog()
        super().__init__(
            ConnectorConfig(institution="inspektorat.3374", poll_seconds=0.05),
            ConnectorContext(catalog, AvroCodec(catalog)),
        )
        self.fail = fail
        self.expired: list[datetime] = []
        self.called = threading.Event()

    def read(self, after: str | None, limit: int) -> Sequence[SourceRecord]:
        return []

    def to_events(self, record: SourceRecord) -> list[Event]:
        return []

    def expire(self, now: datetime) -> None:
        self.expired.append(now)
        self.called.set()
        if self.fail:
            raise OSError("the share failed")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_expiry_runs_at_start_then_at_most_once_an_interval() -> None:
    connector, clock = Keeping(), ManualClock(START)
    schedule = ExpirySchedule(connector, timedelta(minutes=10), clock)
    ran = []
    for minutes in (0, 1, 9, 10, 15, 19, 20):
        clock.now = START + timedelta(minutes=minutes)
        ran.append(schedule.run_if_due())
    assert ran == [True, False, False, True, False, False, True]
    assert connector.expired == [START + timedelta(minutes=m) for m in (0, 10, 20)]


def test_a_failed_expiry_is_logged_and_tried_again_an_interval_later(
    caplog: pytest.LogCaptureFixture,
) -> None:
    connector, clock = Keeping(fail=True), ManualClock(START)
    schedule = ExpirySchedule(connector, timedelta(minutes=10), clock)
    with caplog.at_level(logging.ERROR, logger="connectors.expiry"):
        assert schedule.run_if_due()
        clock.now += timedelta(minutes=5)
        assert not schedule.run_if_due()
        clock.now += timedelta(minutes=5)
        assert schedule.run_if_due()
    assert [r.getMessage() for r in caplog.records] == [
        "keeping: deleting what is past its retention failed (OSError); tried again in 10 min"
    ] * 2


def test_the_interval_is_minutes_not_days() -> None:
    assert timedelta(minutes=1) <= EXPIRY_INTERVAL <= timedelta(hours=1)


def test_a_running_inbound_connector_expires_at_once_and_keeps_private_checkpoints(
    tmp_path: Path, kawal_broker: list[str]
) -> None:
    connector, stop = Keeping(), threading.Event()
    home = tmp_path / "home"
    loop = threading.Thread(
        target=run_connector,
        args=(connector, kawal_broker, home, stop),
        kwargs={"keyring": contract_keyring()},
    )
    loop.start()
    try:
        assert connector.called.wait(30)
    finally:
        stop.set()
        loop.join(30)
    assert len(connector.expired) == 1  # at start; the next is an interval away
    folder = home / "connectors"
    assert mode(folder) == 0o700
    assert "checkpoints.db" in {path.name for path in folder.iterdir()}
    assert {mode(path) for path in folder.iterdir()} == {0o600}


def test_checkpoints_and_feed_chains_are_private_with_their_sqlite_companions(
    tmp_path: Path,
) -> None:
    checkpoints = CheckpointStore(tmp_path / "connectors" / "checkpoints.db")
    checkpoints.put("keeping", "7")
    chains = FeedChains(tmp_path / "connectors" / "outbound.chains.db")
    chains.record({"case_id": "c", "seq": 1, "hash": "h"})
    files = sorted((tmp_path / "connectors").iterdir())
    assert "checkpoints.db-wal" in {path.name for path in files}  # WAL: SQLite made it
    assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}
    assert mode(tmp_path / "connectors") == 0o700
    checkpoints.close()
    chains.close()


def test_a_checkpoint_store_older_releases_left_readable_is_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "connectors"
    CheckpointStore(folder / "checkpoints.db").close()
    for path in [folder, *folder.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    CheckpointStore(folder / "checkpoints.db").close()
    assert mode(folder) == 0o700
    assert {mode(path) for path in folder.iterdir()} == {0o600}
