"""The audit sink and ``kawal replay`` on the real broker, reading what crashes leave behind.

A worker killed after producing an entry produces it again once restarted; after a restart
of everything the sink reads both copies in one batch. Both store the entry once and go on,
and make an entry that conflicts with the stored trail visible: a metric, a log line, an exit
code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from streams.audit.store import AuditStore
from streams.broker.topic_end import read_to_end
from streams.domain.keyring import KeyRing
from streams.local.embedded import EmbeddedBroker
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.local.processes import ChildProcess
from streams.settings import Settings
from streams.topics import CASE_AUDIT, DLQ
from tests.audit.treetools import signed_rows
from tests.hubtools import (
    default_codec,
    metric_value,
    report,
    running_sink,
    wait_stored,
)

pytestmark = pytest.mark.slow

CASE = "5d2e8f1a-0000-4000-8000-000000000001"
CONFLICTS = 'kawal_chain_verification_failures_total{where="audit_sink"}'


def _redelivered_and_forked(ring: KeyRing) -> list[dict[str, Any]]:
    """Entries 1 to 3 with entry 2 sent again, then an entry 2 of another history."""
    kept = signed_rows(ring, CASE, 3)
    # Another entry 2 after the same entry 1, as a worker whose case state diverged makes it.
    [forked] = signed_rows(ring, CASE, 1, start=2, prev_hash=kept[0]["hash"], variant="diverged")
    return [kept[0], kept[1], kept[1], forked, kept[2]]


def _ring(tmp_path: Path) -> KeyRing:
    """The keys of the sink's home (made here): the sink stores only what its hub key signed."""
    settings = Settings(home=tmp_path / "home")
    ensure_local_keys(settings)
    return keyring_of(settings)


def _encoded(rows: list[dict[str, Any]]) -> list[bytes]:
    """Stored rows as the worker writes them on ``kawal.case.audit``."""
    codec = default_codec()
    return [
        codec.encode("kawal.AuditEntry", row | {"disclosures": json.loads(row["disclosures"])})
        for row in rows
    ]


def _send(broker: EmbeddedBroker, values: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=[broker.bootstrap_servers])
    try:
        for value in values:
            producer.send(CASE_AUDIT, key=CASE.encode(), value=value)
        producer.flush()
    finally:
        producer.close()


@contextmanager
def _running_sink(broker: EmbeddedBroker, tmp_path: Path) -> Iterator[tuple[ChildProcess, str]]:
    """`kawal sink` on ``broker`` with a home of its own, once healthy: it and its URL."""
    home = tmp_path / "home"
    ensure_local_keys(Settings(home=home))
    with running_sink(home, broker.url) as running:
        yield running


def _replay(broker: EmbeddedBroker, url: str) -> subprocess.CompletedProcess[str]:
    """`kawal replay --json` of ``broker``'s trail into the store at ``url``."""
    # The home's key registry says which entries the hub made.
    home = str(Path(url.removeprefix("sqlite:///")).parent / "home")
    env = dict(os.environ, KAWAL_HOME=home, KAWAL_BROKER_URL=broker.url, KAWAL_AUDIT_DB_URL=url)
    command = [sys.executable, "-m", "streams.cli", "replay", "--json"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_an_entry_read_twice_in_one_batch_is_stored_once_and_a_conflict_is_counted(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    ring = _ring(tmp_path)
    kept = signed_rows(ring, CASE, 3)
    _send(own_broker, _encoded(_redelivered_and_forked(ring)))
    with _running_sink(own_broker, tmp_path) as (sink, url):
        with AuditStore(Settings(home=tmp_path / "home").audit_url) as store:
            wait_stored(store, 3, sink)
            assert [row.hash for row in store.trail(CASE)] == [row["hash"] for row in kept]
        assert metric_value(url, CONFLICTS) == 1
        assert f"entry 2 of case {CASE} conflicts with the stored one" in sink.log_tail(40)
        assert sink.alive


def test_replay_stores_an_entry_read_twice_once_and_exits_4_on_a_conflict(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    ring = _ring(tmp_path)
    _send(own_broker, _encoded(_redelivered_and_forked(ring)))
    url = f"sqlite:///{tmp_path / 'rebuilt.db'}"
    done = _replay(own_broker, url)
    assert done.returncode == 4, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["read"], summary["inserted"], summary["conflicting"]) == (5, 3, 1)
    assert "for a conflict with the stored trail (another entry at" in done.stderr
    store = AuditStore(url)
    try:
        kept = signed_rows(ring, CASE, 3)
        assert [row.hash for row in store.trail(CASE)] == [row["hash"] for row in kept]
    finally:
        store.close()


def _stranger_then_entries(ring: KeyRing) -> list[bytes]:
    """A report written to kawal.case.audit by a misdirected producer, then three entries."""
    stranger = default_codec().encode("ReportReceived", report())
    return [stranger, *_encoded(signed_rows(ring, CASE, 3))]


def test_a_record_that_is_no_entry_is_dead_lettered_and_the_trail_goes_on(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """Before, the sink failed on it (KeyError) at every start, and stored nothing after it."""
    _send(own_broker, _stranger_then_entries(_ring(tmp_path)))
    with _running_sink(own_broker, tmp_path) as (sink, url):
        with AuditStore(Settings(home=tmp_path / "home").audit_url) as store:
            wait_stored(store, 3, sink)
            assert [row.seq for row in store.trail(CASE)] == [1, 2, 3]
        rejected = 'kawal_rejections_total{reason="schema_mismatch",stage="sink"}'
        assert metric_value(url, rejected) == 1
        assert sink.alive
    letters = [
        default_codec().decode(m.value).record
        for m in read_to_end([own_broker.bootstrap_servers], [DLQ], 30)
    ]
    [letter] = [x for x in letters if x["source_topic"] == CASE_AUDIT]
    assert (letter["stage"], letter["reason_code"], letter["source_offset"]) == (
        "sink",
        "schema_mismatch",
        0,
    )
    assert letter["reason"] == (
        f"{CASE_AUDIT} holds kawal.AuditEntry records only, which the hub's worker writes; this "
        "is a kawal.events.ReportReceived: find the producer that wrote it there (the record's "
        "place is its source) and have it write where its schema belongs"
    )


def test_replay_skips_a_record_that_is_no_entry_and_stores_the_rest(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    _send(own_broker, _stranger_then_entries(_ring(tmp_path)))
    done = _replay(own_broker, f"sqlite:///{tmp_path / 'rebuilt.db'}")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["read"], summary["inserted"], summary["undecodable"]) == (4, 3, 1)
