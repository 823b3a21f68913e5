"""The Inspektorat Daerah file-drop connector: the contract, receipts, batches and resumes."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from connectors.base import (
    ConnectorConfig,
    InboundConnector,
    PermanentError,
    SourceRecord,
    TransientError,
)
from connectors.contract import FAST_RETRY, InboundContract, read_topic
from connectors.errors import ConnectorConfigError
from connectors.host import build
from connectors.ids import event_id_for
from connectors.inspektorat.connector import FileDropInbound
from connectors.inspektorat.simulator import MALFORMATIONS, WIB, InspectorateOffice, demo_setup
from connectors.runtime import InboundRunner
from connectors.signed_fixtures import contract_keyring, signed_event_of
from schemas.identity import case_id_for
from streams.broker.checkpoints import CheckpointStore
from streams.domain.authorization import authorize
from streams.domain.institutions import load_institutions
from streams.domain.lifecycle import CaseLifecycle, Phase, check_transition
from streams.topics import DLQ, inbound_topic

NAME = "inspektorat-filedrop"
INSTITUTION = "inspektorat.3374"
#: A recommended case the office learned of from its feed (opened by Bawaslu Central Java).
FOLLOWED_CASE = case_id_for("bawaslu.33", "33/LP/PB/2024/042")
#: A fixed moment for offices whose records two tests compare.
EXPORTED_AT = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
#: Row fields that hold personal data (kawal.personal_data) in the office's export.
PERSONAL = ("summary", "subject_nip", "subject_name", "reporter_identity")


def config_of(office: InspectorateOffice) -> dict[str, Any]:
    """The connector's configuration on the office's share, its key beside (not on) it."""
    return {
        "institution": INSTITUTION,
        "drop_dir": str(office.share),
        "pseudonym_key_file": str(office.root / "connector" / "pseudonyms.key"),
    }


@contextmanager
def _office(tmp_path: Path) -> Iterator[InspectorateOffice]:
    # A seed per test (its tmp_path name): the same data every run, and no two tests on the
    # shared broker share record ids.
    office = InspectorateOffice(tmp_path / "office", seed=zlib.crc32(tmp_path.name.encode()))
    office.follow_case(FOLLOWED_CASE)
    yield office


class TestFileDropContract(InboundContract):
    connector_name = NAME

    def start_system(self, tmp_path: Path) -> AbstractContextManager[Any]:
        return _office(tmp_path)

    def config(self, system: Any, tmp_path: Path) -> dict[str, Any]:
        return config_of(system)

    def add_records(self, system: Any, count: int) -> None:
        system.export_batch(count)

    def add_malformed(self, system: Any) -> None:
        system.export_batch(1, malformed={1: "bad_date"})

    def unreachable(self, system: Any) -> AbstractContextManager[None]:
        return system.offline()  # type: ignore[no-any-return]


@pytest.fixture
def office(tmp_path: Path) -> Iterator[InspectorateOffice]:
    with _office(tmp_path) as running:
        yield running


def connect(office: InspectorateOffice) -> FileDropInbound:
    """A new connector (as after a restart) on the office's share."""
    connector = build(NAME, config_of(office))
    assert isinstance(connector, FileDropInbound)
    return connector


def run_once(
    office: InspectorateOffice,
    tmp_path: Path,
    bootstrap: list[str],
    *,
    batch_size: int = 100,
    crash_before_acknowledge: bool = False,
) -> list[SourceRecord]:
    """One runner pass by a fresh connector (as after a restart); the records it read."""
    connector = connect(office)
    seen: list[SourceRecord] = []
    read = connector.read

    def recording(after: str | None, limit: int) -> list[SourceRecord]:
        seen[:] = read(after, limit)
        return seen

    connector.read = recording  # type: ignore[method-assign]
    if crash_before_acknowledge:
        connector.acknowledge = lambda records: None  # type: ignore[method-assign]
    checkpoints = CheckpointStore(tmp_path / "checkpoints.db")
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        runner = InboundRunner(
            connector,
            producer,
            connector.context.codec,
            checkpoints,
            FAST_RETRY,
            contract_keyring(),
            batch_size,
        )
        runner.run_once()
        return list(seen)
    finally:
        producer.close()
        checkpoints.close()
        connector.close()


def checkpoint(tmp_path: Path) -> str | None:
    store = CheckpointStore(tmp_path / "checkpoints.db")
    try:
        return store.get(NAME)
    finally:
        store.close()


def published(
    connector: InboundConnector[ConnectorConfig], bootstrap: list[str], ids: set[str]
) -> list[str]:
    """Event ids among ``ids`` on the inbound topic, once per time they were published."""
    codec = connector.context.codec
    found = [
        signed_event_of(codec, message.value)["envelope"]["event_id"]
        for message in read_topic(bootstrap, inbound_topic(INSTITUTION))
    ]
    return sorted(event_id for event_id in found if event_id in ids)


def accepted_ids(receipt: dict[str, Any]) -> set[str]:
    return {event_id for row in receipt["accepted"] for event_id in row["event_ids"]}


def personal_values(office: InspectorateOffice, batch: str) -> list[str]:
    return [str(row[key]) for row in office.exported()[batch] for key in PERSONAL if row.get(key)]


# -- batches and formats ----------------------------------------------------------------------


def test_a_part_file_is_never_read(office: InspectorateOffice) -> None:
    connector = connect(office)
    with office.exporting(3) as final:
        assert (final.parent / f"{final.name}.part").exists()
        assert connector.read(None, 10) == []
    records = connector.read(None, 10)
    assert [r.position for r in records] == [f"{final.name}#{n}" for n in (1, 2, 3)]


def test_the_office_dates_its_records_now_and_learnt_of_each_report_within_the_filing_rule(
    office: InspectorateOffice,
) -> None:
    # A report dated in the past arrives overdue (its registration clock runs from its date).
    before = datetime.now(UTC).replace(microsecond=0)
    office.export_batch(20)
    after = datetime.now(UTC) + timedelta(seconds=20)  # a second apart at the least: 20 rows
    connector = connect(office)
    events = [e for r in connector.read(None, 100) for e in connector.to_events(r)]
    reports = [e.record for e in events if e.event_type == "ReportReceived"]

    assert reports
    for event in events:
        assert before <= event.record["envelope"]["event_time"] <= after
    for report in reports:
        received = report["envelope"]["event_time"].astimezone(WIB).date()
        assert timedelta(0) <= received - report["discovered_on"] <= timedelta(days=7)


def test_csv_and_json_exports_of_the_same_records_map_to_the_same_events(tmp_path: Path) -> None:
    events = {}
    for fmt in ("csv", "json"):
        # Same seed and clock: the same records.
        office = InspectorateOffice(tmp_path / fmt, seed=7, clock=lambda: EXPORTED_AT)
        office.follow_case(FOLLOWED_CASE)
        office.export_batch(8, fmt=fmt)
        # One connector's key: the same reporter in the same case, the same pseudonym.
        config = config_of(office) | {"pseudonym_key_file": str(tmp_path / "pseudonyms.key")}
        connector = build(NAME, config)
        assert isinstance(connector, FileDropInbound)
        events[fmt] = [e for r in connector.read(None, 100) for e in connector.to_events(r)]
    assert events["csv"] == events["json"]
    assert {e.event_type for e in events["csv"]} == {"ReportReceived", "ExaminationHeld"}
    assert all(e.record["envelope"]["event_time"].utcoffset() is not None for e in events["csv"])


def test_every_event_is_one_an_inspectorate_may_emit_and_the_hub_accepts(
    office: InspectorateOffice,
) -> None:
    office.export_batch(12)
    connector = connect(office)
    catalog = connector.context.catalog
    sender = next(i for i in load_institutions() if i.id == INSTITUTION)
    recommended = CaseLifecycle(
        phase=Phase.RECOMMENDED,
        reported_at="2024-11-01T02:00:00+00:00",
        authority="bkn",
        reporter="bawaslu.33",
        employing_agency="ppk.3374",
        region_code="3374",
        violation="DISCIPLINE_PARTISAN_SUPPORT",
        recommended_level="MEDIUM",
    )
    for record in connector.read(None, 100):
        for event in connector.to_events(record):
            assert sender.role in catalog.emitted_by(event.event_type)
            state = None if event.event_type == "ReportReceived" else recommended
            assert authorize(catalog, sender, event.event_type, event.record, state, "bkn") is None
            assert check_transition(state, event.event_type, event.record) is None


@pytest.mark.parametrize("kind", MALFORMATIONS)
def test_a_malformed_row_is_refused_with_a_reason_that_quotes_no_value(
    office: InspectorateOffice, kind: str
) -> None:
    name = office.export_batch(3, malformed={2: kind})
    connector = connect(office)
    first, malformed, third = connector.read(None, 10)
    assert connector.to_events(first)
    assert connector.to_events(third)
    with pytest.raises(PermanentError) as refused:
        connector.to_events(malformed)
    assert refused.value.reason_code == kind
    assert not any(value in refused.value.reason for value in personal_values(office, name))


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("subject_nip", "\uff11" * 18),  # fullwidth digits: digits to Python, not to SIASN
        ("region_code", "33\u0667\u0664"),  # Arabic-Indic: a region beside 3374's own
        ("region_code", "337"),
        ("election", "pilkada\x1b[2J"),  # an escape sequence for whoever reads the statistics
        ("actor_ref", "user:Budi-198503152010011002"),  # a NIP, in clear to every party
        ("case_number", "LP/NIK-3201011505800001/2026"),  # a NIK, on the public case page
        ("case_number", "LP-3201 0115 0580 0001/2026"),  # the same, as printed
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_nips_regions_and_elections_have_the_hubs_form(
    tmp_path: Path, column: str, value: str, fmt: str
) -> None:
    # An office following no case yet exports reports only.
    office = InspectorateOffice(tmp_path / "office", seed=1)
    office.export_batch(1, fmt=fmt, values={1: {column: value}})
    connector = connect(office)
    (row,) = connector.read(None, 10)
    with pytest.raises(PermanentError) as refused:
        connector.to_events(row)
    assert refused.value.reason_code == "bad_value"
    assert f"column {column} is not" in refused.value.reason
    assert value not in refused.value.reason


@pytest.mark.parametrize(("fmt", "nested"), [("csv", False), ("json", False), ("json", True)])
def test_a_file_that_is_no_batch_is_rejected_whole_and_still_receipted(
    office: InspectorateOffice, fmt: str, nested: bool
) -> None:
    name = office.export_unreadable(fmt, nested=nested)
    connector = connect(office)
    [record] = connector.read(None, 10)
    assert record.position == f"{name}#0"
    with pytest.raises(PermanentError) as refused:
        connector.to_events(record)
    assert refused.value.reason_code == "unreadable_batch"
    connector.acknowledge([record])
    receipt = office.receipts()[name]
    assert receipt["status"] == "unreadable"
    assert receipt["accepted"] == []
    assert [r["row"] for r in receipt["rejected"]] == [None]
    assert (office.share / "processed" / name).exists()


# -- receipts ---------------------------------------------------------------------------------


def test_the_receipt_lists_event_ids_and_rejected_rows_without_personal_data(
    office: InspectorateOffice, tmp_path: Path, kawal_broker: list[str]
) -> None:
    name = office.export_batch(5, malformed={2: "bad_value", 4: "unknown_enum"})
    run_once(office, tmp_path, kawal_broker)
    receipt = office.receipts()[name]
    processed = office.share / "processed" / name
    assert not (office.share / "incoming" / name).exists()
    assert receipt["sha256"] == hashlib.sha256(processed.read_bytes()).hexdigest()
    assert (receipt["batch"], receipt["record_count"], receipt["status"]) == (name, 5, "partial")
    assert [row["row"] for row in receipt["accepted"]] == [1, 3, 5]
    assert [(r["row"], r["reason_code"]) for r in receipt["rejected"]] == [
        (2, "bad_value"),
        (4, "unknown_enum"),
    ]
    connector = connect(office)
    codec = connector.context.codec
    ids = accepted_ids(receipt)
    assert published(connector, kawal_broker, ids) == sorted(ids)
    letters = [codec.decode(m.value).record for m in read_topic(kawal_broker, DLQ)]
    reasons = [letter["reason"] for letter in letters if name in letter["reason"]]
    assert sorted(reason.split(":")[0] for reason in reasons) == [
        f"record {name}#2",  # the dead letter names the row, never its contents
        f"record {name}#4",
    ]
    for value in personal_values(office, name):
        assert value not in json.dumps(receipt)
        assert not any(value in reason for reason in reasons)


def test_an_empty_batch_is_receipted_at_once(office: InspectorateOffice) -> None:
    name = office.export_batch(0, fmt="json")
    assert connect(office).read(None, 10) == []
    assert office.receipts()[name]["record_count"] == 0
    assert (office.share / "processed" / name).exists()


def test_the_office_exports_rejected_rows_again_corrected(office: InspectorateOffice) -> None:
    first = office.export_batch(2, malformed={1: "bad_date"})
    connector = connect(office)
    connector.acknowledge(connector.read(None, 10))
    [receipt] = office.read_receipts()
    assert receipt["batch"] == first
    office.export_batch(1)
    records = connector.read(f"{first}#2", 10)
    corrected = connector.to_events(records[0])[0]
    record_id = office.exported()[first][0]["record_id"]
    assert corrected.record["envelope"]["event_id"] == event_id_for(
        INSTITUTION, record_id, corrected.event_type
    )
    assert len(records) == 2


# -- checkpoints, restarts and crashes ---------------------------------------------------------


def test_a_restart_mid_batch_resumes_inside_the_batch(
    office: InspectorateOffice, tmp_path: Path, kawal_broker: list[str]
) -> None:
    name = office.export_batch(5)
    first = run_once(office, tmp_path, kawal_broker, batch_size=2)
    assert checkpoint(tmp_path) == f"{name}#2"
    assert name not in office.receipts()
    assert (office.share / "incoming" / name).exists()
    rest = run_once(office, tmp_path, kawal_broker)
    assert [r.position for r in first + rest] == [f"{name}#{n}" for n in range(1, 6)]
    receipt = office.receipts()[name]
    assert len(receipt["accepted"]) == 5
    ids = accepted_ids(receipt)
    assert published(connect(office), kawal_broker, ids) == sorted(ids)  # each exactly once


def test_a_crash_before_acknowledge_finishes_the_batch_without_publishing_it_again(
    office: InspectorateOffice, tmp_path: Path, kawal_broker: list[str]
) -> None:
    name = office.export_batch(3)
    run_once(office, tmp_path, kawal_broker, crash_before_acknowledge=True)
    assert checkpoint(tmp_path) == f"{name}#3"
    assert name not in office.receipts()
    assert run_once(office, tmp_path, kawal_broker) == []  # restarted: nothing left to send
    ids = accepted_ids(office.receipts()[name])
    assert len(ids) == 3
    assert published(connect(office), kawal_broker, ids) == sorted(ids)


def test_earlier_batches_a_crash_left_behind_are_sent_again_with_the_same_ids(
    office: InspectorateOffice, tmp_path: Path, kawal_broker: list[str]
) -> None:
    earlier, later = office.export_batch(2), office.export_batch(2)
    run_once(office, tmp_path, kawal_broker, crash_before_acknowledge=True)
    assert checkpoint(tmp_path) == f"{later}#2"
    again = run_once(office, tmp_path, kawal_broker)
    assert [r.position for r in again] == [f"{earlier}#1", f"{earlier}#2"]
    receipts = office.receipts()
    earlier_ids, later_ids = accepted_ids(receipts[earlier]), accepted_ids(receipts[later])
    connector = connect(office)
    assert published(connector, kawal_broker, earlier_ids) == sorted([*earlier_ids] * 2)
    assert published(connector, kawal_broker, later_ids) == sorted(later_ids)


def test_a_batch_dropped_late_under_an_older_name_is_still_read(
    office: InspectorateOffice,
) -> None:
    connector = connect(office)
    taken = office.export_batch(2)
    records = connector.read(None, 10)
    connector.acknowledge(records)
    late = office.export_batch(1)
    older = "ITDA3374_20241101T070000_00000" + Path(late).suffix
    (office.share / "incoming" / late).rename(office.share / "incoming" / older)
    assert [r.position for r in connector.read(records[-1].position, 10)] == [f"{older}#1"]
    assert sorted(office.receipts()) == [taken]


def test_a_batch_dropped_again_is_taken_once(office: InspectorateOffice) -> None:
    connector = connect(office)
    name = office.export_batch(2)
    records = connector.read(None, 10)
    connector.acknowledge(records)
    receipt = office.receipts()[name]
    office.resend(name)  # the same bytes: already in
    assert connector.read(records[-1].position, 10) == []
    assert not (office.share / "incoming" / name).exists()
    office.resend(name, changed=True)  # other rows under a used name: refused
    assert connector.read(records[-1].position, 10) == []
    assert (office.share / "refused" / name).exists()
    refusal = json.loads((office.share / "receipts" / f"{name}.refused.json").read_text())
    assert refusal["status"] == "refused"
    assert office.receipts()[name] == receipt


def test_an_unmounted_share_is_transient_and_receipts_catch_up(
    office: InspectorateOffice,
) -> None:
    connector = connect(office)
    name = office.export_batch(2)
    records = connector.read(None, 10)
    with office.offline():
        with pytest.raises(TransientError, match="unmounted"):
            connector.read(records[-1].position, 10)
        connector.acknowledge(records)  # the batch is in the hub, but the share is gone
    assert name not in office.receipts()
    assert connector.read(records[-1].position, 10) == []
    assert office.receipts()[name]["status"] == "complete"


# -- configuration and the demo ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"institution": "bawaslu.33"}, "institution"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"share": "/mnt/itda"}, "share"),
    ],
)
def test_a_bad_configuration_names_the_key(
    office: InspectorateOffice, override: dict[str, str], named: str
) -> None:
    config = config_of(office) | override
    with pytest.raises(ConnectorConfigError, match=named):
        build(NAME, config)


def test_the_office_runs_on_its_own_and_stops(tmp_path: Path) -> None:
    office = InspectorateOffice(tmp_path / "office", seed=1, malformed_rate=0.5)
    office.start(interval_seconds=0.02, outage_every=3)
    deadline = time.monotonic() + 10
    while len(office.exported()) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    office.stop()
    assert len(office.exported()) >= 4
    assert (office.share / "incoming").is_dir()
    assert not [t for t in threading.enumerate() if t.name == f"{office.office}-office"]
    demo, config = demo_setup(tmp_path / "demo")
    try:
        assert isinstance(build(NAME, config), FileDropInbound)
    finally:
        demo.stop()
