"""The connectors `kawal connector new` scaffolds, loaded from the generated package.

Mapped and refused line by line, and run by the real runtime on the real broker: a line the
connector refuses is dead-lettered, logged by its line (never a value of it) and written back
to the system's ``inbox/`` by the scaffold's ``Inbound.rejected``.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
from kafka import KafkaProducer

from connectors.base import ConnectorContext, HubRefusal, PermanentError, SourceRecord
from connectors.contract import FAST_RETRY, read_topic
from connectors.runtime import InboundRunner, system_topic
from connectors.scaffold import new_connector
from connectors.signed_fixtures import contract_keyring
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.broker.checkpoints import CheckpointStore
from streams.topics import DLQ

NAME = "mapping-probe"
PACKAGE = "kawal_connector_mapping_probe"
REPORT = {
    "id": "R-1",
    "case_number": "LP/1/2024",
    "reported_at": "2024-11-01T09:30:00+07:00",
    "election": "pilkada-2024",
    "region_code": "3374",
    "employing_agency": "ppk.3374",
    "violation": "ETHICS_SOCIAL_MEDIA_CAMPAIGN",
    "summary": "Shared campaign material in an official group.",
    "subject_nip": "198501012010011001",
    "subject_name": "Siti Rahmawati",
    "reporter": "U-8812",
}


@pytest.fixture
def scaffolded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The scaffold's ``connector`` module, imported from a package generated for the test."""
    monkeypatch.syspath_prepend(str(new_connector(NAME, tmp_path / "made")))
    try:
        yield importlib.import_module(f"{PACKAGE}.connector")
    finally:
        for module in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[module]


def _context() -> ConnectorContext:
    catalog = default_catalog()
    return ConnectorContext(catalog, AvroCodec(catalog))


def _inbound(module: ModuleType, share: Path, keys: Path) -> object:
    config = module.InboundConfig(
        institution="bawaslu.33", share=share, pseudonym_key_file=keys / "pseudonyms.key"
    )
    return module.Inbound(config, _context())


def _refusal(module: ModuleType, tmp_path: Path, report: dict[str, str]) -> PermanentError:
    connector = _inbound(module, tmp_path / "share", tmp_path / "keys")
    payload = {"line": json.dumps(report), "utf8": True}  # as the connector reads a line
    line = SourceRecord(position="1", payload=payload, source_id="line 1")
    with pytest.raises(PermanentError) as refused:
        connector.to_events(line)  # type: ignore[attr-defined]
    return refused.value


@pytest.mark.parametrize("field", ["election", "reported_at", "employing_agency"])
def test_a_report_without_a_field_is_refused_naming_the_field(
    scaffolded: ModuleType, tmp_path: Path, field: str
) -> None:
    report = {name: value for name, value in REPORT.items() if name != field}

    refused = _refusal(scaffolded, tmp_path, report)

    assert refused.reason_code == "unmappable_record"
    assert f"field {field!r} is missing" in refused.reason
    assert "KeyError" not in refused.reason
    assert REPORT["subject_name"] not in refused.reason


def test_a_refusal_by_the_hub_is_written_to_the_system_once(
    scaffolded: ModuleType, tmp_path: Path
) -> None:
    inbox = tmp_path / "share" / "inbox"
    inbox.mkdir(parents=True)
    config = scaffolded.ExchangeConfig(institution="bawaslu.33", share=tmp_path / "share")
    connector = scaffolded.Outbound(config, _context())
    refusal = HubRefusal(
        event_id="8030f7d2-9fce-59bd-8bf7-b44d5f717667",
        case_id="faed18c1-b230-5d73-ad36-0499544320a5",
        event_type="ReportReceived",
        reason_code="unknown_region",
        reason="region_code: the region code is not a Kemendagri code",
        source="kawal.inbound.bawaslu.33:0:7",
        issued_at=datetime(2026, 12, 6, 14, 22, tzinfo=UTC),
    )

    connector.refused(refusal)
    connector.refused(refusal)  # the receipt delivered again

    [written] = inbox.iterdir()
    told = json.loads(written.read_text())
    assert told["event_id"] == refusal.event_id
    assert told["reason_code"] == "unknown_region"
    assert told["reason"] == refusal.reason


def test_a_line_refused_before_sending_is_logged_by_its_line_and_told_to_the_system(
    scaffolded: ModuleType,
    tmp_path: Path,
    kawal_broker: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The walkthrough's log said only ``dead-lettered a record from system:...: naive_time``."""
    share = tmp_path / "share"
    (share / "inbox").mkdir(parents=True)
    naive = REPORT | {"id": "R-2", "case_number": "LP/2/2024", "reported_at": "2024-11-01T09:30"}
    lines = [REPORT | {"case_number": f"LP/{datetime.now(UTC).timestamp()}"}, naive]
    (share / "outbox.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    connector = _inbound(scaffolded, share, tmp_path / "keys")
    checkpoints = CheckpointStore(tmp_path / "checkpoints.db")
    producer = KafkaProducer(bootstrap_servers=kawal_broker, acks="all")
    runner = InboundRunner(
        connector,  # type: ignore[arg-type]
        producer,
        connector.context.codec,  # type: ignore[attr-defined]
        checkpoints,
        FAST_RETRY,
        contract_keyring(),
    )
    try:
        with caplog.at_level(logging.INFO):
            assert runner.run_once() == 2
    finally:
        producer.close()
        checkpoints.close()

    source = system_topic(f"{NAME}-inbound")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"dead-lettered record line 2 of {source} as naive_time" in warnings
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for value in ("Siti Rahmawati", REPORT["subject_nip"], REPORT["reporter"], REPORT["summary"]):
        assert value not in logged
    codec = AvroCodec(default_catalog())
    letters = [codec.decode(m.value).record for m in read_topic(kawal_broker, DLQ)]
    [letter] = [x for x in letters if x["source_topic"] == source]
    assert letter["reason"].startswith("record line 2: field 'reported_at' has no UTC offset")
    [told] = [json.loads(path.read_text()) for path in (share / "inbox").glob("rejected-*.json")]
    assert told["record"] == "line 2"
    assert told["reason_code"] == "naive_time"
    assert told["reason"] == letter["reason"].removeprefix("record line 2: ")
    assert told["refused_by"] == "connector"
