"""Decrees ``ppk-decrees`` itself refuses reach the PPK's office, in ``hub_refusals``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from connectors.base import ConnectorConfig, InboundConnector, SourceRecord
from connectors.contract import read_topic
from connectors.contract_base import FAST_RETRY
from connectors.errors import PermanentError
from connectors.host import build
from connectors.ppk.database import CONNECTOR, HUB_REFUSALS
from connectors.ppk.simulator import DecreeRegistry
from connectors.runtime import InboundRunner, system_topic
from connectors.signed_fixtures import contract_keyring
from streams.broker.checkpoints import CheckpointStore
from streams.topics import DLQ
from tests.connectors.test_ppk import running, settings
from tests.connectors.test_ppk_inbox import _decree_id, inbox
from tests.connectors.test_ppk_subjects import SUBJECT_NIP, a_case, disclosed
from tests.hubtools import default_codec

#: A NIP and a name no decree of these tests may leak, and the simulator's NIP that is none.
OTHER_NIP, OTHER_NAME = "197001012000121002", "Agus W."
BAD_NIP = "19800101200501100X"


@pytest.fixture
def registry(tmp_path: Path) -> Any:
    with running(None, tmp_path) as registry:
        yield registry


def decrees_of(registry: DecreeRegistry) -> InboundConnector[ConnectorConfig]:
    connector = build("ppk-decrees", settings(registry))
    assert isinstance(connector, InboundConnector)
    return connector


def run_once(registry: DecreeRegistry, tmp_path: Path, bootstrap: list[str]) -> int:
    """One pass of ``ppk-decrees`` through the broker, from the registry's start."""
    connector = decrees_of(registry)
    checkpoints = CheckpointStore(tmp_path / f"checkpoints-{len(list(tmp_path.iterdir()))}.db")
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        runner = InboundRunner(
            connector,
            producer,
            connector.context.codec,
            checkpoints,
            FAST_RETRY,
            contract_keyring(),
        )
        return runner.run_once()
    finally:
        producer.close()
        checkpoints.close()
        connector.close()


def refusals(registry: DecreeRegistry) -> list[dict[str, Any]]:
    with registry.engine.connect() as connection:
        rows = connection.execute(HUB_REFUSALS.select().order_by(HUB_REFUSALS.c.id))
        return [dict(row._mapping) for row in rows]


def wrong_decrees(registry: DecreeRegistry) -> dict[int, str]:
    """Decrees the connector refuses, by id, with the reason code it gives each."""
    connector = inbox(registry)
    for entry in disclosed(connector, a_case()):
        connector.deliver(entry)
    connector.close()
    (recommended,) = registry.recommendations()
    case_id = recommended["case_id"]
    other = registry.draft(None, None, case_id=case_id, subject=(OTHER_NIP, OTHER_NAME))
    registry.sign(other)
    revoked = registry.draft(None, None, case_id=case_id, subject=(SUBJECT_NIP, OTHER_NAME))
    registry.sign(revoked)
    registry.revoke(revoked)
    kind, case, nip = (
        _decree_id(registry, registry.write_invalid_decree(flaw))
        for flaw in ("kind", "case_id", "nip")
    )
    return {
        other: "subject_mismatch",
        revoked: "decree_revoked",
        kind: "inconsistent_decree",
        case: "invalid_case_id",
        nip: "invalid_subject_nip",
    }


def test_a_decree_the_connector_refuses_is_recorded_for_the_office_once(
    registry: DecreeRegistry, tmp_path: Path, kawal_broker: list[str]
) -> None:
    refused = wrong_decrees(registry)
    fine = registry.sign(registry.draft(*registry.new_case_reference()))

    for _ in range(2):  # read again from the start, as after a lost checkpoint
        assert run_once(registry, tmp_path, kawal_broker) == len(refused) + 1

    rows = refusals(registry)
    assert {row["decree_id"]: row["reason_code"] for row in rows} == refused
    assert len(rows) == len(refused)
    assert {row["refused_by"] for row in rows} == {CONNECTOR}
    assert all(row["event_type"] == "SanctionImposed" and row["reason"] for row in rows)
    assert fine not in {row["decree_id"] for row in rows}
    written = repr(rows)
    assert not [s for s in (SUBJECT_NIP, OTHER_NIP, OTHER_NAME, BAD_NIP) if s in written]
    letters = {(d["reason_code"], d["reason"].split(":")[0]) for d in _letters(kawal_broker)}
    assert {(code, f"record decree/{i}") for i, code in refused.items()} <= letters


def _letters(bootstrap: list[str]) -> list[dict[str, Any]]:
    """The dead letters of ``ppk-decrees`` in ``kawal.dlq`` (of every test's registry)."""
    codec = default_codec()
    decoded = [codec.decode(record.value).record for record in read_topic(bootstrap, DLQ)]
    return [d for d in decoded if d["source_topic"] == system_topic("ppk-decrees")]


def test_a_registry_that_cannot_record_it_keeps_the_dead_letter_and_goes_on(
    registry: DecreeRegistry,
    tmp_path: Path,
    kawal_broker: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with registry.engine.begin() as connection:  # a registry made before refused_by
        connection.exec_driver_sql("ALTER TABLE hub_refusals DROP COLUMN refused_by")
    registry.write_invalid_decree("kind")
    registry.issue(*registry.new_case_reference())

    with caplog.at_level(logging.WARNING):
        assert run_once(registry, tmp_path, kawal_broker) == 2

    (warning,) = [r.getMessage() for r in caplog.records if "was not told" in r.getMessage()]
    assert "inconsistent_decree" in warning
    assert "registry_refused" in warning or "refused the write" in warning
    with registry.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM hub_refusals").scalar() == 0


def test_other_connectors_are_told_nothing() -> None:
    record = SourceRecord(position="1", payload={}, source_id="x")

    told = InboundConnector.rejected  # the base's hook, which every other connector keeps
    assert told(None, record, PermanentError("x", "y")) is None  # type: ignore[arg-type]
