"""``kawal dlq replay`` knows a letter by what it is, on a broker of the module's own.

``kawal.dlq`` is deleted and made again between tests that need places of their own. Before,
replay remembered the places (``partition:offset``) of the letters it sent: a topic made
again put new letters at those places, and replay skipped them as already replayed.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaProducer

from connectors.contract import read_topic
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.broker.checkpoints import CheckpointStore
from streams.broker.dead_letter_replay import ReplayOutcome, replay_dead_letters
from streams.broker.dead_letters import ReplayFilter
from streams.broker.provision import provision_topics
from streams.broker.replay_memory import Migration
from streams.cli import main
from streams.domain.institutions import load_institutions
from streams.domain.keyring import KeyRing
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.settings import Settings
from streams.topics import DLQ, all_topics, inbound_topic
from tests.brokers import start_ephemeral_broker
from tests.hubtools import signed_report

INBOUND = inbound_topic("bkn")


@dataclass(frozen=True)
class Broker:
    """The module's broker, with a ``kawal.dlq`` made anew for each test.

    Its letters carry reports BKN signed with its key under ``keys_home`` (replay sends back
    only what the topic's institution signed), one per name a test gives them.
    """

    bootstrap: list[str]
    codec: AvroCodec
    keys_home: Path
    signed: dict[tuple[str, str], bytes] = field(default_factory=dict)

    @property
    def ring(self) -> KeyRing:
        """The keys under :attr:`keys_home`."""
        return keyring_of(Settings(home=self.keys_home))

    def payload(self, stage: str, name: str) -> bytes:
        """The report named ``name`` in the test of ``stage``, signed once, by BKN."""
        if (stage, name) not in self.signed:
            self.signed[stage, name] = signed_report(self.codec, self.ring, "bkn")
        return self.signed[stage, name]

    def letter(
        self, stage: str, name: str, offset: int, reason_code: str = "unknown_key"
    ) -> dict[str, object]:
        """An unsealed, replayable letter carrying the report ``name``, rejected now."""
        return {
            "stage": stage,
            "reason_code": reason_code,
            "reason": f"refused for {reason_code}",
            "source_topic": INBOUND,
            "source_partition": 0,
            "source_offset": offset,
            "payload": self.payload(stage, name),
            "sealed_to": "",
            "rejected_at": datetime.now(UTC),
        }

    def recreate_dlq(self) -> None:
        """Delete ``kawal.dlq`` and make it again, empty."""
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            admin.delete_topics([DLQ])
            deadline = time.monotonic() + 10
            while DLQ in admin.list_topics():
                assert time.monotonic() < deadline, f"{DLQ} was not deleted"
                time.sleep(0.1)
        finally:
            admin.close()
        provision_topics(self.bootstrap, all_topics(load_institutions(), 4))

    def write(self, letters: list[dict[str, object]]) -> None:
        """Write ``letters`` to partition 0 of ``kawal.dlq``, in order."""
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        try:
            for letter in letters:
                value = self.codec.encode("kawal.DeadLetter", letter)
                producer.send(DLQ, key=b"case", value=value, partition=0).get(30)
        finally:
            producer.close()

    def replay(self, home: Path, selection: ReplayFilter) -> ReplayOutcome:
        """Replay ``selection`` with the memory under ``home``."""
        return replay_dead_letters(self.bootstrap, self.codec, home, selection, self.ring)

    def sent(self, stage: str) -> list[bytes]:
        """The records of this test sent back to :data:`INBOUND`, in order."""
        mine = {value for (of, _), value in self.signed.items() if of == stage}
        return [r.value for r in read_topic(self.bootstrap, INBOUND) if r.value in mine]


@pytest.fixture(scope="module")
def module_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    own = start_ephemeral_broker(tmp_path_factory.mktemp("broker"))
    try:
        provision_topics([own.bootstrap_servers], all_topics(load_institutions(), 4))
        keys_home = tmp_path_factory.mktemp("keys")
        ensure_local_keys(Settings(home=keys_home))
        yield Broker([own.bootstrap_servers], AvroCodec(default_catalog()), keys_home)
    finally:
        own.stop()


@pytest.fixture
def broker(module_broker: Broker) -> Broker:
    module_broker.recreate_dlq()
    return module_broker


@pytest.fixture
def stage() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def test_letters_at_the_places_of_a_topic_made_again_are_replayed(
    broker: Broker, stage: str, tmp_path: Path
) -> None:
    broker.write([broker.letter(stage, "first-0", 0), broker.letter(stage, "first-1", 1)])
    first = broker.replay(tmp_path, ReplayFilter(stage))
    broker.recreate_dlq()
    broker.write([broker.letter(stage, "second-0", 0), broker.letter(stage, "second-1", 1)])

    second = broker.replay(tmp_path, ReplayFilter(stage))
    third = broker.replay(tmp_path, ReplayFilter(stage))

    assert (first.replayed, first.already_replayed) == (2, 0)
    assert (second.replayed, second.already_replayed) == (2, 0)
    assert (third.replayed, third.already_replayed) == (0, 2)
    assert broker.sent(stage) == [
        broker.payload(stage, name) for name in ("first-0", "first-1", "second-0", "second-1")
    ]


def test_a_letter_written_twice_is_sent_once(broker: Broker, stage: str, tmp_path: Path) -> None:
    twice = broker.letter(stage, "copied", 0)
    broker.write([twice, twice, broker.letter(stage, "other", 1)])

    outcome = broker.replay(tmp_path, ReplayFilter(stage))

    assert broker.sent(stage) == [broker.payload(stage, "copied"), broker.payload(stage, "other")]
    assert (outcome.replayed, outcome.already_replayed, outcome.copies) == (2, 0, 1)


def test_one_record_refused_for_two_reasons_is_two_letters_each_replayed_once(
    broker: Broker, stage: str, tmp_path: Path
) -> None:
    broker.write(
        [
            broker.letter(stage, "event", 7, "unknown_key"),
            broker.letter(stage, "event", 7, "unknown_region"),
        ]
    )

    by_key = broker.replay(tmp_path, ReplayFilter(stage, "unknown_key"))
    by_region = broker.replay(tmp_path, ReplayFilter(stage, "unknown_region"))
    both = broker.replay(tmp_path, ReplayFilter(stage))

    assert (by_key.replayed, by_region.replayed) == (1, 1)
    assert (both.replayed, both.already_replayed) == (0, 2)
    assert broker.sent(stage) == [broker.payload(stage, "event")] * 2


def test_a_replayed_letter_refused_again_is_replayed_by_the_next_replay(
    broker: Broker, stage: str, tmp_path: Path
) -> None:
    broker.write([broker.letter(stage, "event", 3)])
    first = broker.replay(tmp_path, ReplayFilter(stage))
    # Refused again where the replay put it: a new letter, with that record's own place.
    broker.write([broker.letter(stage, "event", 4)])

    second = broker.replay(tmp_path, ReplayFilter(stage))

    assert (first.replayed, second.replayed, second.already_replayed) == (1, 1, 1)
    assert broker.sent(stage) == [broker.payload(stage, "event")] * 2


def test_places_an_earlier_release_remembered_become_the_letters_found_there(
    broker: Broker,
    stage: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broker.write([broker.letter(stage, "sent-before", 0), broker.letter(stage, "not-yet", 1)])
    older = CheckpointStore(tmp_path / "connectors" / "checkpoints.db")
    older.put("dlq-replay", "0:0,0:9")  # as releases before wrote it; 0:9 expired since
    older.close()
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path))
    monkeypatch.setenv("KAWAL_BROKER_URL", f"kafka://{broker.bootstrap[0]}")
    monkeypatch.setenv("KAWAL_KEYS_FILE", str(Settings(home=broker.keys_home).local_key_registry))

    code = main(["dlq", "replay", "--stage", stage])
    printed = capsys.readouterr().out
    again = broker.replay(tmp_path, ReplayFilter(stage))

    assert code == 0
    assert printed.startswith("replayed 1, already replayed 1,")
    assert "1 letters found there are taken as replayed, 1 places hold no letter" in printed
    assert "0 letters there were rejected after the last replay" in printed
    assert (again.replayed, again.already_replayed, again.migrated) == (0, 2, None)
    assert broker.sent(stage) == [broker.payload(stage, "not-yet")]
    older = CheckpointStore(tmp_path / "connectors" / "checkpoints.db")
    assert older.get("dlq-replay") is None
    older.close()


def test_letters_rejected_after_the_places_were_remembered_are_not_taken_as_replayed(
    broker: Broker, stage: str, tmp_path: Path
) -> None:
    """The topic was made again between the last replay of an earlier release and the upgrade."""
    broker.write([broker.letter(stage, "sent-before", 0)])
    older = CheckpointStore(tmp_path / "connectors" / "checkpoints.db")
    older.put("dlq-replay", "0:0,0:1")
    older.close()
    time.sleep(0.01)  # rejected_at has milliseconds
    broker.write([broker.letter(stage, "after", 1)])

    outcome = broker.replay(tmp_path, ReplayFilter(stage))

    assert broker.sent(stage) == [broker.payload(stage, "after")]
    assert outcome.migrated == Migration(taken=1, gone=0, newer=1)
    assert (outcome.replayed, outcome.already_replayed) == (1, 1)


@pytest.mark.parametrize(
    ("spoil", "told"),
    [
        (lambda path: path.write_bytes(b"not a database, " * 512), "cannot be read"),
        (
            lambda path: _older_positions(path, "0:0,garbage", "2026-01-01T00:00:00+00:00"),
            "1 places that are not partition:offset",
        ),
        (lambda path: _older_positions(path, "0:0", "yesterday"), "not a UTC time"),
    ],
    ids=["not-a-database", "altered-places", "altered-time"],
)
def test_a_memory_that_cannot_be_read_stops_the_replay_and_says_what_to_do(
    broker: Broker,
    stage: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    spoil: object,
    told: str,
) -> None:
    broker.write([broker.letter(stage, "a", 0)])
    path = tmp_path / "connectors" / "checkpoints.db"
    path.parent.mkdir(mode=0o700)
    assert callable(spoil)
    spoil(path)
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path))
    monkeypatch.setenv("KAWAL_BROKER_URL", f"kafka://{broker.bootstrap[0]}")
    monkeypatch.setenv("KAWAL_KEYS_FILE", str(Settings(home=broker.keys_home).local_key_registry))

    code = main(["dlq", "replay", "--stage", stage])

    error = capsys.readouterr().err
    assert code == 1
    assert told in error
    assert "restore it from its backup" in error or "Restore the file from its backup" in error
    assert broker.sent(stage) == []


def _older_positions(path: Path, positions: str, updated_at: str) -> None:
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE checkpoints ("
        "connector TEXT PRIMARY KEY, position TEXT NOT NULL, updated_at TEXT NOT NULL)"
    )
    db.execute("INSERT INTO checkpoints VALUES ('dlq-replay', ?, ?)", (positions, updated_at))
    db.commit()
    db.close()
