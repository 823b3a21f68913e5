"""The contract suite of an inbound connector (:mod:`connectors.contract` tells how to use it).

It checks the mapping against the shared schemas, checkpoint and resume, and that a record the
connector cannot map, or whose events the schemas refuse, ends in ``kawal.dlq`` with a reason
while the records after it flow.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from connectors.base import ConnectorConfig, InboundConnector, SourceRecord
from connectors.contract_base import FAST_RETRY, SystemContract, read_topic
from connectors.errors import PermanentError, TransientError
from connectors.host import inbound_topic_in_registry
from connectors.runtime import InboundRunner, system_topic
from connectors.signed_fixtures import contract_keyring, signed_event_of
from schemas.errors import CodecError, KawalError
from streams.broker.checkpoints import CheckpointStore
from streams.settings import Settings
from streams.topics import DLQ


class InboundContract(SystemContract):
    """Contract of an :class:`InboundConnector`."""

    @abstractmethod
    def add_records(self, system: Any, count: int) -> None:
        """Put ``count`` new valid records into the system."""

    @abstractmethod
    def add_malformed(self, system: Any) -> None:
        """Put one record the connector cannot map into the system."""

    def add_unfit(self, system: Any) -> None:
        """Put one record into the system that parses but does not fit the shared schemas.

        A symbol outside a shared enum, say, or a time without a UTC offset: the connector
        refuses it itself (``PermanentError``) or maps it and leaves it to the runtime, which
        dead-letters it (``schema_mismatch``, ``naive_time``). By default
        :meth:`add_malformed`: some systems cannot hold such a record (a database's types).
        """
        self.add_malformed(system)

    def inbound(self, system: Any, tmp_path: Path) -> InboundConnector[ConnectorConfig]:
        """A new inbound connector against ``system``."""
        connector = self.make(system, tmp_path)
        assert isinstance(connector, InboundConnector)
        return connector

    def test_mapped_events_round_trip_through_the_shared_schemas(
        self, system: Any, tmp_path: Path
    ) -> None:
        """Every mapped event encodes and decodes with the shared schemas; ids are stable."""
        self.add_records(system, 3)
        connector = self.inbound(system, tmp_path)
        codec = connector.context.codec
        records = connector.read(None, 10)
        assert len(records) == 3
        for record in records:
            events = connector.to_events(record)
            assert events, "every valid record maps to at least one event"
            for event in events:
                assert event.record["envelope"]["source"] == connector.institution
                decoded = codec.decode(codec.encode(event.event_type, event.record))
                assert decoded.full_name == f"kawal.events.{event.event_type}"
                assert (
                    decoded.record["envelope"]["event_id"] == event.record["envelope"]["event_id"]
                )
            again = [e.record["envelope"]["event_id"] for e in connector.to_events(record)]
            assert again == [e.record["envelope"]["event_id"] for e in events]
        connector.close()

    def test_reads_resume_after_the_checkpoint(self, system: Any, tmp_path: Path) -> None:
        """Reading after a checkpoint yields exactly the records after it."""
        self.add_records(system, 5)
        connector = self.inbound(system, tmp_path)
        first = list(connector.read(None, 2))
        rest = list(connector.read(first[-1].position, 10))
        assert len(first) == 2
        assert [r.source_id for r in first + rest] == [
            r.source_id for r in connector.read(None, 10)
        ]
        assert len({r.source_id for r in first + rest}) == 5
        assert connector.read(rest[-1].position, 10) == []
        connector.close()

    def test_a_restart_resumes_without_loss_or_duplicates(
        self, system: Any, tmp_path: Path, kawal_broker: list[str]
    ) -> None:
        """A restarted connector publishes every record's events once."""
        self.add_records(system, 5)
        published = self._run(system, tmp_path, kawal_broker, batch_size=2)  # stops after 2
        self.add_records(system, 2)
        published += self._run(system, tmp_path, kawal_broker, batch_size=100)
        ids = [e.record["envelope"]["event_id"] for e in published]
        connector = self.inbound(system, tmp_path)
        on_topic = [
            m
            for m in read_topic(kawal_broker, published_to(connector))
            if _event_id(connector.context.codec, m.value) in set(ids)
        ]
        assert len(ids) == len(set(ids)) == len(on_topic)
        connector.close()

    def _run(self, system: Any, tmp_path: Path, bootstrap: list[str], batch_size: int) -> list[Any]:
        """One batch by a fresh connector and runner (as after a restart); the events it sent."""
        connector = self.inbound(system, tmp_path)
        checkpoints = CheckpointStore(tmp_path / "checkpoints.db")
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
        try:
            before = checkpoints.get(connector.name)
            runner = InboundRunner(
                connector,
                producer,
                connector.context.codec,
                checkpoints,
                FAST_RETRY,
                contract_keyring(),
                batch_size,
                topic=published_to(connector),
            )
            if runner.run_once() == 0:
                return []
            return self._mapped(connector, connector.read(before, batch_size))
        finally:
            producer.close()
            checkpoints.close()
            connector.close()

    @staticmethod
    def _mapped(
        connector: InboundConnector[ConnectorConfig], records: Sequence[SourceRecord]
    ) -> list[Any]:
        events = []
        for record in records:
            try:
                events.extend(connector.to_events(record))
            except (PermanentError, CodecError):  # refused, as the runtime refuses it
                continue
        return events

    def test_a_malformed_record_goes_to_the_dlq_and_the_rest_goes_on(
        self, system: Any, tmp_path: Path, kawal_broker: list[str]
    ) -> None:
        """An unmappable record is dead-lettered with its reason; later records flow."""
        self.add_malformed(system)
        self.add_records(system, 1)
        connector = self.inbound(system, tmp_path)
        malformed = connector.read(None, 1)[0]
        with pytest.raises(PermanentError) as refused:
            connector.to_events(malformed)
        assert refused.value.reason_code
        events = self._run(system, tmp_path, kawal_broker, batch_size=100)
        assert len(events) >= 1
        mine = self._letters_of(connector, malformed, kawal_broker)
        assert mine, "the malformed record is in kawal.dlq"
        assert mine[-1]["reason_code"] == refused.value.reason_code
        connector.close()

    def test_a_record_the_shared_schemas_refuse_goes_to_the_dlq_and_the_rest_goes_on(
        self, system: Any, tmp_path: Path, kawal_broker: list[str]
    ) -> None:
        """A record that parses but does not fit the schemas is dead-lettered, never a stop.

        Its letter names it; the records after it are published, and the checkpoint moves
        past it, so the connector does not stop at it again.
        """
        self.add_unfit(system)
        self.add_records(system, 2)
        connector = self.inbound(system, tmp_path)
        unfit, *valid = connector.read(None, 10)
        before = len(self._letters_of(connector, unfit, kawal_broker))
        self._run(system, tmp_path, kawal_broker, batch_size=100)
        mine = self._letters_of(connector, unfit, kawal_broker)
        assert len(mine) == before + 1, "the record the schemas refuse is in kawal.dlq once"
        assert mine[-1]["reason_code"]
        ids = {e.record["envelope"]["event_id"] for e in self._mapped(connector, valid)}
        codec = connector.context.codec
        topic = read_topic(kawal_broker, published_to(connector))
        assert ids <= {_event_id(codec, m.value) for m in topic}, "the records after it flow"
        assert self._run(system, tmp_path, kawal_broker, batch_size=100) == [], "read again"
        connector.close()

    @staticmethod
    def _letters_of(
        connector: InboundConnector[ConnectorConfig], record: SourceRecord, bootstrap: list[str]
    ) -> list[dict[str, Any]]:
        """The letters in ``kawal.dlq`` of ``connector`` that name ``record``, oldest first."""
        codec = connector.context.codec
        letters = [codec.decode(m.value).record for m in read_topic(bootstrap, DLQ)]
        return [
            letter
            for letter in letters
            if letter["source_topic"] == system_topic(connector.name)
            and f"record {record.source_id}:" in letter["reason"]
        ]

    def test_an_unreachable_system_is_retried_and_nothing_is_skipped(
        self, system: Any, tmp_path: Path, kawal_broker: list[str]
    ) -> None:
        """An outage is retried; the checkpoint stays until records are published."""
        self.add_records(system, 2)
        with self.unreachable(system):
            connector = self.inbound(system, tmp_path)
            with pytest.raises(TransientError):
                connector.read(None, 10)
            connector.close()
            assert self._run(system, tmp_path, kawal_broker, batch_size=100) == []
        assert len(self._run(system, tmp_path, kawal_broker, batch_size=100)) >= 2


def published_to(connector: InboundConnector[ConnectorConfig]) -> str:
    """The topic the registry in force gives the connector's institution: own, or shared."""
    return inbound_topic_in_registry(connector.institution, Settings())


def _event_id(codec: Any, value: bytes) -> str | None:
    """The event id of a signed inbound record; None for a record that is not one.

    Other tests write to the same topics of the shared broker, refused records included.
    """
    try:
        event_id: str = signed_event_of(codec, value)["envelope"]["event_id"]
    except KawalError:
        return None
    return event_id
