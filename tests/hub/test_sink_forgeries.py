"""Records the hub did not make, written to kawal.case.audit by a plain producer (real broker).

The sink and ``kawal replay`` store only the entries the hub made
(:mod:`streams.audit.hub_entries`): each forgery is dead-lettered with its reason and counted,
and the hub's entries after it are stored and verify. Before, the sink stored every one of
them, kept the forged clear value in the ``disclosures`` column and dropped the hub's own
entry 5 as a conflict.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from streams.audit.store import AuditStore
from streams.audit.verify import verify_store
from streams.broker.topic_end import read_to_end
from streams.domain.keyring import KeyRing
from streams.local.embedded import EmbeddedBroker
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.settings import Settings
from streams.topics import CASE_AUDIT, DLQ
from tests.audit.treetools import keyring, signed_rows
from tests.hubtools import default_codec, metric_value, running_sink, wait_stored
from tests.postgres import PostgresServer

pytestmark = pytest.mark.slow

CASE = "5d2e8f1a-0000-4000-8000-00000000f001"
FORGED_CASE = "5d2e8f1a-0000-4000-8000-00000000f0ff"
CANARY = "CanaryForged Reporter"
#: The reason of each forgery, in the order they are written (after the hub's entries 1 to 4).
REASONS = [
    "disclosures_in_clear",
    "entry_hash_mismatch",
    "entry_hash_mismatch",
    "hub_signature_invalid",
    "chain_broken",
    "unknown_key",
]


def _home_ring(home: Path) -> KeyRing:
    """The keys of a hub home (made if missing): the sink of ``home`` believes its hub key."""
    settings = Settings(home=home)
    ensure_local_keys(settings)
    return keyring_of(settings)


def _forgeries(ring: KeyRing, real: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each kind of record the hub did not make, in the order of :data:`REASONS`."""
    head = real[3]
    copied = real[0] | {"case_id": FORGED_CASE}  # its hash is over the real case id
    clear = [{"field": "reporter_identity", "salt": "00" * 16, "value": CANARY}]
    [resigned] = signed_rows(ring, CASE, 1, start=5, prev_hash=head["hash"], variant="-f")
    [misplaced] = signed_rows(ring, CASE, 1, start=5, prev_hash="ab" * 32, variant="-c")
    [stranger] = signed_rows(keyring(), CASE, 1, start=5, prev_hash=head["hash"], variant="-s")
    return [
        copied | {"disclosures": json.dumps(clear)},
        copied,
        real[4] | {"event_type": "CaseClosed", "hash": "cd" * 32, "hub_signature": b"\x01" * 64},
        resigned | {"hub_signature": b"\x02" * 64},
        misplaced,
        stranger,
    ]


def _encoded(rows: list[dict[str, Any]]) -> list[bytes]:
    codec = default_codec()
    return [
        codec.encode("kawal.AuditEntry", row | {"disclosures": json.loads(row["disclosures"])})
        for row in rows
    ]


def _send(broker: EmbeddedBroker, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` to kawal.case.audit with a plain producer, as any local client can."""
    producer = KafkaProducer(bootstrap_servers=[broker.bootstrap_servers])
    try:
        for row, value in zip(rows, _encoded(rows), strict=True):
            producer.send(CASE_AUDIT, key=row["case_id"].encode(), value=value)
        producer.flush()
    finally:
        producer.close()


def _written(broker: EmbeddedBroker, home: Path) -> tuple[KeyRing, list[dict[str, Any]]]:
    """The hub's entries 1 to 4, each forgery, then the hub's entry 5, on the topic."""
    ring = _home_ring(home)
    real = signed_rows(ring, CASE, 5)
    _send(broker, [*real[:4], *_forgeries(ring, real), real[4]])
    return ring, real


@pytest.fixture(params=["sqlite", "postgresql"])
def audit_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The audit store's URL: SQLite in the home, or a database of the session's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'home' / 'audit.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"forged_{os.getpid()}_{id(request)}")


def _sink_letters(broker: EmbeddedBroker) -> list[dict[str, Any]]:
    """The sink's dead letters: the forged case's first (its own partition), each in order."""
    codec = default_codec()
    records = read_to_end([broker.bootstrap_servers], [DLQ], 30)
    keyed = [(m.key, codec.decode(m.value).record) for m in records]
    ordered = sorted(keyed, key=lambda x: (x[0] != FORGED_CASE.encode(), x[1]["source_offset"]))
    return [letter for _, letter in ordered if letter["source_topic"] == CASE_AUDIT]


def test_the_sink_stores_only_the_hubs_entries_and_dead_letters_each_forgery(
    own_broker: EmbeddedBroker, tmp_path: Path, audit_url: str
) -> None:
    home = tmp_path / "home"
    ring, real = _written(own_broker, home)
    with running_sink(home, own_broker.url, {"KAWAL_AUDIT_DB_URL": audit_url}) as (sink, url):
        with AuditStore(audit_url) as store:
            wait_stored(store, 5, sink)
            assert [row.hash for row in store.trail(CASE)] == [row["hash"] for row in real]
            assert store.trail(FORGED_CASE) == []
            assert verify_store(store, keys=ring.registry).ok
            assert all(row.disclosures == "[]" for row in store.trail(CASE))
        for reason in set(REASONS):
            series = f'kawal_rejections_total{{reason="{reason}",stage="sink"}}'
            assert metric_value(url, series) == REASONS.count(reason), reason
        conflicts = 'kawal_chain_verification_failures_total{where="audit_sink"}'
        assert metric_value(url, conflicts) == 0
        log = sink.log_tail(200)
        assert sink.alive
    letters = _sink_letters(own_broker)
    assert [(x["stage"], x["reason_code"]) for x in letters] == [("sink", r) for r in REASONS]
    clear = letters[0]
    assert clear["payload"] == b""  # kept by its coordinates only: it holds a value in clear
    assert "kawalaudittopicforged" in clear["reason"]
    assert f"case {FORGED_CASE}" in letters[1]["reason"]
    assert "does not chain to the stored entry 4" in letters[4]["reason"]
    for said in [log, *(x["reason"] for x in letters)]:
        assert CANARY not in said
        assert "the worker's case state" not in said


def _replay(broker: EmbeddedBroker, home: Path, url: str) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ, KAWAL_HOME=str(home), KAWAL_BROKER_URL=broker.url, KAWAL_AUDIT_DB_URL=url
    )
    command = [sys.executable, "-m", "streams.cli", "replay", "--json"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_replay_stores_only_the_hubs_entries_and_counts_each_forgery(
    own_broker: EmbeddedBroker, tmp_path: Path, audit_url: str
) -> None:
    home = tmp_path / "home"
    ring, real = _written(own_broker, home)
    done = _replay(own_broker, home, audit_url)
    assert done.returncode == 4, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["read"], summary["inserted"], summary["conflicting"]) == (11, 5, 0)
    assert summary["refused"] == {reason: REASONS.count(reason) for reason in REASONS}
    assert "entries not stored, as the hub did not make them: chain_broken (1)" in done.stderr
    assert CANARY not in done.stdout + done.stderr
    with AuditStore(audit_url) as store:
        assert [row.hash for row in store.trail(CASE)] == [row["hash"] for row in real]
        assert store.trail(FORGED_CASE) == []
        assert verify_store(store, keys=ring.registry).ok
    again = _replay(own_broker, home, audit_url)
    assert json.loads(again.stdout)["inserted"] == 0


def test_the_hubs_entry_meeting_a_forged_stored_one_is_told_apart(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """A store written before the sink checked entries holds a forged entry 5."""
    home = tmp_path / "home"
    ring = _home_ring(home)
    real = signed_rows(ring, CASE, 5)
    [forged] = signed_rows(keyring(), CASE, 1, start=5, prev_hash=real[3]["hash"], variant="-s")
    url = f"sqlite:///{home / 'audit.db'}"
    with AuditStore(url) as store:
        store.create_schema(home)
        store.insert([*real[:4], forged])
    _send(own_broker, real)
    with running_sink(home, own_broker.url, {"KAWAL_AUDIT_DB_URL": url}) as (sink, metrics_url):
        conflicts = 'kawal_chain_verification_failures_total{where="audit_sink"}'
        deadline = time.monotonic() + 30
        while metric_value(metrics_url, conflicts) < 1:
            assert time.monotonic() < deadline, sink.log_tail(30)
            time.sleep(0.2)
        said = sink.log_tail(60)
        assert (
            f"entry 5 of case {CASE} conflicts with the stored one, which the hub did not make "
            "(unknown_key)"
        ) in said
        assert "rebuild the store with `kawal replay`" in said
        assert "the worker's case state" not in said
