"""The inspectorate's reporters leave the file drop only as per-case pseudonyms.

The office writes its own reference of each reporter; the same person reports several cases
(the simulator draws them from a few people). On the real broker: every case gets its own
pseudonym of that person, a case read again gets the same one, and the office's reference is
nowhere the connector sends or writes: not in the inbound topic, not in a dead letter's sealed
payload, not in its log, not in its receipts.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from connectors.base import PermanentError
from connectors.contract import FAST_RETRY, read_topic
from connectors.errors import ConnectorConfigError
from connectors.host import build
from connectors.inspektorat.connector import FileDropInbound
from connectors.inspektorat.reporters import WITHHELD, pseudonymised
from connectors.inspektorat.simulator import InspectorateOffice
from connectors.pseudonyms import PseudonymKeyError, case_pseudonym, kept_key
from connectors.runtime import InboundRunner
from connectors.signed_fixtures import contract_keyring, signed_event_of
from schemas.identity import case_id_for
from streams.broker.checkpoints import CheckpointStore
from streams.broker.dead_letters import opened_payload
from streams.domain.keyring import KeyRing
from streams.topics import DLQ, inbound_topic

NAME = "inspektorat-filedrop"
INSTITUTION = "inspektorat.3374"


@pytest.fixture
def office(tmp_path: Path) -> InspectorateOffice:
    # A seed per test: no two tests on the shared broker share record ids.
    return InspectorateOffice(tmp_path / "office", seed=zlib.crc32(tmp_path.name.encode()))


def key_file(office: InspectorateOffice) -> Path:
    return office.root / "connector" / "pseudonyms.key"


def connect(office: InspectorateOffice) -> FileDropInbound:
    config = {
        "institution": INSTITUTION,
        "drop_dir": str(office.share),
        "pseudonym_key_file": str(key_file(office)),
    }
    connector = build(NAME, config)
    assert isinstance(connector, FileDropInbound)
    return connector


def publish(
    office: InspectorateOffice, tmp_path: Path, bootstrap: list[str], ring: KeyRing
) -> None:
    """One pass of the runner, as `kawal connector run` makes it, on the real broker."""
    connector = connect(office)
    checkpoints = CheckpointStore(tmp_path / "checkpoints.db")
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        runner = InboundRunner(
            connector, producer, connector.context.codec, checkpoints, FAST_RETRY, ring
        )
        assert runner.run_once() > 0
    finally:
        producer.close()
        checkpoints.close()
        connector.close()


def raw_records(bootstrap: list[str], topic: str) -> list[Any]:
    """Every record of ``topic``, read to its end."""
    return read_topic(bootstrap, topic)


def reports(office: InspectorateOffice) -> list[dict[str, Any]]:
    return [
        row for rows in office.exported().values() for row in rows if row["record_type"] == "report"
    ]


def test_a_reporter_has_a_pseudonym_per_case_the_same_when_read_again(
    office: InspectorateOffice, tmp_path: Path, kawal_broker: list[str]
) -> None:
    office.export_batch(12)  # 12 reports by 5 people: some report two cases or more
    publish(office, tmp_path, kawal_broker, contract_keyring())
    connector = connect(office)
    codec = connector.context.codec
    # Other tests write to the same topic of the shared broker: only this office's cases count.
    ours = {case_id_for(INSTITUTION, row["case_number"]) for row in reports(office)}
    sent = {
        event["envelope"]["case_id"]: event["reporter_ref"]
        for event in (
            signed_event_of(codec, m.value)
            for m in raw_records(kawal_broker, inbound_topic(INSTITUTION))
        )
        if event["envelope"]["event_type"] == "ReportReceived"
        and event["envelope"]["case_id"] in ours
    }
    cases_of: dict[str, list[str]] = defaultdict(list)
    key = kept_key(key_file(office))
    for row in reports(office):
        case_id = case_id_for(INSTITUTION, row["case_number"])
        cases_of[row["reporter_ref"]].append(case_id)
        assert sent[case_id] == case_pseudonym(key, case_id, row["reporter_ref"])
        assert sent[case_id] != row["reporter_ref"]
    repeated = [cases for cases in cases_of.values() if len(cases) > 1]
    assert repeated, "the office's batch has a reporter of two cases"
    for cases in repeated:
        assert len({sent[case] for case in cases}) == len(cases)
    # Read again from no checkpoint (a full replay of processed/), by a restarted connector.
    again = {
        event.record["envelope"]["case_id"]: event.record["reporter_ref"]
        for record in connector.read(None, 100)
        for event in connector.to_events(record)
        if event.event_type == "ReportReceived"
    }
    connector.close()
    assert again == sent


def test_the_office_reference_never_leaves_the_connector(
    office: InspectorateOffice,
    tmp_path: Path,
    kawal_broker: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = office.export_batch(6, malformed={2: "bad_date", 5: "bad_value"})
    references = {row["reporter_ref"] for row in reports(office)}
    ring = contract_keyring()
    with caplog.at_level(logging.DEBUG):
        publish(office, tmp_path, kawal_broker, ring)
    raw = [m.value for m in raw_records(kawal_broker, inbound_topic(INSTITUTION))]
    letters = [m for m in raw_records(kawal_broker, DLQ) if name.encode() in m.value]
    assert len(letters) == 2, "both malformed rows are dead-lettered"
    connector = connect(office)
    codec = connector.context.codec
    opened = [opened_payload(codec.decode(m.value).record, ring) for m in letters]
    connector.close()
    receipt = json.dumps(office.receipts()[name])
    for reference in references:
        token = reference.encode()
        assert not any(token in value for value in raw)
        assert not any(token in letter.value for letter in letters)
        assert not any(token in payload for payload in opened)
        assert reference not in caplog.text
        assert reference not in receipt
    # The dead letter keeps the row for diagnosis, with the pseudonym in place of the reference.
    assert all(b"reporter:" in payload for payload in opened)


def test_the_key_is_made_private_on_first_start_and_kept_across_restarts(
    office: InspectorateOffice,
) -> None:
    connect(office).close()
    path = key_file(office)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    first = kept_key(path)
    connect(office).close()
    assert kept_key(path) == first
    path.chmod(0o644)  # loosened by hand: tightened again at the next start
    connect(office).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("content", [b"", b"not hex at all", b"ab" * 16, b"\xff" * 64])
def test_a_damaged_key_file_is_refused_without_quoting_it(
    office: InspectorateOffice, content: bytes
) -> None:
    path = key_file(office)
    path.parent.mkdir(mode=0o700, parents=True)
    path.write_bytes(content)
    with pytest.raises(
        ConnectorConfigError, match=r"pseudonym key file .* is (empty|damaged)"
    ) as refused:
        connect(office)
    assert isinstance(refused.value, PseudonymKeyError)
    said = str(refused.value)
    # Empty or damaged, said as such, with the likely cause; never "make one" over it.
    assert ("is empty" if not content else "is damaged") in said
    assert "interrupted (a full disk)" in said
    assert "restore it from its backup" in said
    if content:
        assert content.decode(errors="replace") not in said


def test_a_key_file_that_is_a_link_is_refused(office: InspectorateOffice, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.key"
    target.write_text("ab" * 32)
    path = key_file(office)
    path.parent.mkdir(mode=0o700, parents=True)
    os.symlink(target, path)
    with pytest.raises(PseudonymKeyError, match="symbolic link"):
        connect(office)


def test_a_malformed_reference_is_withheld_and_the_row_refused_naming_the_column(
    office: InspectorateOffice,
) -> None:
    connector = connect(office)
    office.export_batch(1)
    record = connector.read(None, 1)[0]
    row = dict(record.payload["record"]) | {"reporter_ref": "Budi Santoso"}
    shown = pseudonymised(row, INSTITUTION, b"k" * 32)
    assert shown["reporter_ref"] == WITHHELD
    with pytest.raises(PermanentError, match="column reporter_ref") as refused:
        connector._rows.events(shown)
    assert "Budi" not in refused.value.reason
    no_case = pseudonymised({"reporter_ref": "reporter:x1"}, INSTITUTION, b"k" * 32)
    assert no_case["reporter_ref"] == WITHHELD
    connector.close()
