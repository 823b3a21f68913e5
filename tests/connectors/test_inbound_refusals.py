"""One system record the shared schemas refuse stops nothing: it is dead-lettered, the rest flows.

A connector that maps its system's reports as they come (no checks of its own) meets what an
integrator's first connector meets: a violation no enum knows, a field the schema lacks, a time
without a UTC offset, whether its envelope was made with ``schemas.envelope.envelope`` or by
hand. On the real broker, each such record goes to ``kawal.dlq`` with a reason code that names
the record, never its values; it is counted and logged; the record after it is published and
the checkpoint moves past both. An unreachable system is logged with the connector's reason.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pytest
from kafka import KafkaProducer

from connectors.base import (
    ConnectorConfig,
    ConnectorContext,
    Event,
    InboundConnector,
    SourceRecord,
    TransientError,
)
from connectors.contract import FAST_RETRY, read_topic
from connectors.ids import event_id_for
from connectors.runtime import InboundRunner, system_topic
from connectors.signed_fixtures import contract_keyring, signed_event_of
from monitoring.connectors import ConnectorMetrics
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec, CodecError
from schemas.envelope import envelope
from schemas.identity import case_id_for
from streams.broker.checkpoints import CheckpointStore
from streams.domain.keyring import KeyRing
from streams.topics import DLQ, inbound_topic

INSTITUTION = "bawaslu.33"
NAME = "as-it-comes"
SECRET_NIP = "198501012010011001"
SECRET_NAME = "Siti Rahmawati"
SECRET_SUMMARY = "Shared campaign material in the office group."
OUTAGE = "exchange share /mnt/bawaslu-33 is not mounted (FileNotFoundError)"


class AsItComes(InboundConnector[ConnectorConfig]):
    """A connector that maps each report as the system holds it, leaving the checks to the hub.

    ``by_hand``: it writes the envelope as a dict rather than with ``envelope()``, which
    refuses a naive time itself. ``down``: the system cannot be read.
    """

    name = NAME

    def __init__(self, reports: list[dict[str, Any]], *, by_hand: bool = False) -> None:
        catalog = default_catalog()
        super().__init__(
            ConnectorConfig(institution=INSTITUTION), ConnectorContext(catalog, AvroCodec(catalog))
        )
        self.reports, self.by_hand, self.down = reports, by_hand, False

    def read(self, after: str | None, limit: int) -> Sequence[SourceRecord]:
        if self.down:
            raise TransientError(OUTAGE)
        start = int(after or 0)
        return [
            SourceRecord(str(number), report, report["id"])
            for number, report in enumerate(self.reports[start : start + limit], start=start + 1)
        ]

    def to_events(self, record: SourceRecord) -> list[Event]:
        report = dict(record.payload)
        del report["id"]
        case_id = case_id_for(INSTITUTION, report.pop("case_number"))
        moment = datetime.fromisoformat(report.pop("reported_at"))
        fields: dict[str, Any] = {
            "event_id": event_id_for(INSTITUTION, record.source_id, "ReportReceived"),
            "case_id": case_id,
            "event_type": "ReportReceived",
            "event_time": moment,
            "source": INSTITUTION,
            "actor_ref": f"system:{INSTITUTION}",
        }
        made = fields | {"ingest_time": None, "traceparent": None, "signature": None}
        header = made if self.by_hand else envelope(**fields)
        body = {
            "case_number": record.source_id,
            "discovered_on": moment.date(),
            "reporter_ref": f"reporter:{uuid.uuid4().hex[:24]}",
            "reporter_identity": None,
        }
        return [Event("ReportReceived", {"envelope": header} | body | report)]


def report(**overrides: Any) -> dict[str, Any]:
    """A report as the system holds it; its id is new on the shared broker.

    Eight hex digits at most: twelve were all decimal digits now and then, and a log withholds
    a reference of ten digits or more as a possible NIK (streams.domain.free_text).
    """
    return {
        "id": f"R-{uuid.uuid4().hex[:8]}",
        "case_number": f"LP/{uuid.uuid4().hex[:8]}/2024",
        "reported_at": "2024-11-02T14:05:00+07:00",
        "election": "pilkada-2024",
        "region_code": "3374",
        "employing_agency": "ppk.3374",
        "violation": "ETHICS_SOCIAL_MEDIA_CAMPAIGN",
        "summary": SECRET_SUMMARY,
        "subject_nip": SECRET_NIP,
        "subject_name": SECRET_NAME,
    } | overrides


def runner_of(
    connector: AsItComes,
    producer: KafkaProducer,
    checkpoints: CheckpointStore,
    metrics: ConnectorMetrics,
    keyring: KeyRing | None = None,
) -> InboundRunner:
    """The connector's runner, signing with ``keyring`` (default: the contract suite's keys)."""
    probe = metrics.probe(connector.name, connector.institution)
    return InboundRunner(
        connector,
        producer,
        connector.context.codec,
        checkpoints,
        FAST_RETRY,
        keyring or contract_keyring(),
        probe=probe,
    )


def letters_naming(bootstrap: list[str], source_id: str) -> list[dict[str, Any]]:
    codec = AvroCodec(default_catalog())
    letters = [codec.decode(message.value).record for message in read_topic(bootstrap, DLQ)]
    return [
        letter
        for letter in letters
        if letter["source_topic"] == system_topic(NAME) and source_id in letter["reason"]
    ]


def published_ids(bootstrap: list[str]) -> set[str]:
    codec = AvroCodec(default_catalog())
    found = set()
    for message in read_topic(bootstrap, inbound_topic(INSTITUTION)):
        try:
            found.add(signed_event_of(codec, message.value)["envelope"]["event_id"])
        except CodecError:
            continue  # the session's broker: another test's raw record (a replayed letter)
    return found


@pytest.mark.parametrize(
    ("overrides", "by_hand", "code", "named"),
    [
        ({"violation": "FOO"}, False, "schema_mismatch", "ReportReceived.violation"),
        ({"colour": "blue"}, False, "schema_mismatch", "colour"),
        ({"reported_at": "2024-11-02T14:05:00"}, False, "naive_time", "event_time"),
        ({"reported_at": "2024-11-02T14:05:00"}, True, "naive_time", "event_time"),
    ],
    ids=["enum", "extra-field", "naive-envelope", "naive-by-hand"],
)
def test_a_record_the_schemas_refuse_is_dead_lettered_and_the_next_is_published(
    kawal_broker: list[str],
    producer: KafkaProducer,
    checkpoints: CheckpointStore,
    caplog: pytest.LogCaptureFixture,
    overrides: dict[str, Any],
    by_hand: bool,
    code: str,
    named: str,
) -> None:
    refused, fine = report(**overrides), report()
    connector = AsItComes([refused, fine], by_hand=by_hand)
    metrics = ConnectorMetrics()
    runner = runner_of(connector, producer, checkpoints, metrics)

    with caplog.at_level(logging.INFO):
        assert runner.run_once() == 2

    [letter] = letters_naming(kawal_broker, refused["id"])
    assert letter["reason_code"] == code
    assert letter["reason"].startswith(f"record {refused['id']}: ")
    assert named in letter["reason"]
    for value in (SECRET_NIP, SECRET_NAME, SECRET_SUMMARY, "FOO", "blue", "14:05"):
        assert value not in letter["reason"]
    published = published_ids(kawal_broker)
    assert event_id_for(INSTITUTION, fine["id"], "ReportReceived") in published
    assert event_id_for(INSTITUTION, refused["id"], "ReportReceived") not in published
    assert checkpoints.get(NAME) == "2"
    labels = {"connector": NAME, "institution": INSTITUTION, "reason": code}
    assert metrics.registry.get_sample_value("kawal_connector_dead_letters_total", labels) == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    # Where the record is in the system, so the integrator finds the row to correct.
    assert f"dead-lettered record {refused['id']} of {system_topic(NAME)} as {code}" in warnings
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for value in (SECRET_NIP, SECRET_NAME, SECRET_SUMMARY):
        assert value not in logged
    # What the integrator sees of a batch: counts, no record's content or position.
    infos = [r.getMessage() for r in caplog.records if r.name == "connectors.runtime"]
    assert f"{NAME}: events published: 1, from records read: 2" in infos
    assert runner.run_once() == 0  # the checkpoint is past it: it stops nothing again


#: The loggers of the runtime's passes and of the retries within one.
LOGGERS = ("connectors.runtime", "connectors.retry")


def test_an_unreachable_system_is_logged_with_the_connectors_reason(
    producer: KafkaProducer, checkpoints: CheckpointStore, caplog: pytest.LogCaptureFixture
) -> None:
    connector = AsItComes([report()])
    connector.down = True
    runner = runner_of(connector, producer, checkpoints, ConnectorMetrics())

    with caplog.at_level(logging.WARNING, logger="connectors.runtime"):
        assert runner.run_once() == 0

    said = {name: [r.getMessage() for r in caplog.records if r.name == name] for name in LOGGERS}
    assert said["connectors.runtime"] == [
        f"{NAME}: system unreachable after {FAST_RETRY.attempts} attempts "
        f"(TransientError: {OUTAGE}); will try again"
    ]
    # Each retry before it says why and when the next try comes.
    assert said["connectors.retry"] == [
        f"{NAME}: reading its system failed ({OUTAGE}); try {n + 1} of {FAST_RETRY.attempts} "
        f"in {delay:.1f} s"
        for n, delay in enumerate(FAST_RETRY.delays(), start=1)
    ]
    assert checkpoints.get(NAME) is None


class Defective(AsItComes):
    """A connector whose mapping has a defect that shows on some records: ``fails`` raises.

    The failure's text quotes the record, as a third-party error's text may.
    """

    def __init__(self, reports: list[dict[str, Any]], fails: Exception) -> None:
        super().__init__(reports)
        self.fails = fails

    def to_events(self, record: SourceRecord) -> list[Event]:
        if record.payload.get("summary") == "defect":
            raise self.fails
        return super().to_events(record)


def test_a_record_the_mapping_fails_on_is_dead_lettered_and_the_connector_goes_on(
    kawal_broker: list[str],
    producer: KafkaProducer,
    checkpoints: CheckpointStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Before, the failure ended the connector, and every start met the same record first."""
    fine, failing, later = report(), report(summary="defect"), report()
    connector = Defective([fine, failing, later], KeyError(f"{SECRET_NAME} {SECRET_NIP}"))
    metrics = ConnectorMetrics()
    runner = runner_of(connector, producer, checkpoints, metrics)

    with caplog.at_level(logging.INFO):
        assert runner.run_once() == 3

    [letter] = letters_naming(kawal_broker, failing["id"])
    assert letter["reason_code"] == "internal_error"
    # Where to read again from: after the record before it (position 1).
    assert letter["reason"] == (
        f"record {failing['id']}: {NAME} failed on a record of its system with KeyError, a "
        "defect of the connector: its log shows where; once it is fixed, start it once with "
        "`--reread-after 1` to read the record again"
    )
    published = published_ids(kawal_broker)
    for published_report in (fine, later):
        assert event_id_for(INSTITUTION, published_report["id"], "ReportReceived") in published
    assert event_id_for(INSTITUTION, failing["id"], "ReportReceived") not in published
    assert checkpoints.get(NAME) == "3"
    labels = {"connector": NAME, "institution": INSTITUTION, "reason": "internal_error"}
    assert metrics.registry.get_sample_value("kawal_connector_dead_letters_total", labels) == 1
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    logged = error.getMessage()
    assert logged.startswith(
        f"{NAME} failed on a record of its system with KeyError, which nothing foresaw: the "
        "record is dead-lettered as internal_error and the connector goes on\n"
    )
    assert "in to_events" in logged  # where: the frames
    everything = "\n".join(r.getMessage() for r in caplog.records)
    for value in (SECRET_NIP, SECRET_NAME):
        assert value not in everything
    # The record is named by its reference in the system, in the dead letter's line alone.
    [named] = [r.getMessage() for r in caplog.records if failing["id"] in r.getMessage()]
    assert (
        named == f"dead-lettered record {failing['id']} of {system_topic(NAME)} as internal_error"
    )


def test_a_machine_failure_in_the_mapping_ends_the_pass_and_loses_nothing(
    kawal_broker: list[str], producer: KafkaProducer, checkpoints: CheckpointStore
) -> None:
    """A full disk is no defect of the record: nothing is settled, the record comes again."""
    failing = report(summary="defect")
    connector = Defective([failing], OSError(28, "No space left on device"))
    runner = runner_of(connector, producer, checkpoints, ConnectorMetrics())

    with pytest.raises(OSError, match="No space left"):
        runner.run_once()

    assert checkpoints.get(NAME) is None
    assert letters_naming(kawal_broker, failing["id"]) == []
    connector.fails = KeyError("mended")
    failing["summary"] = SECRET_SUMMARY
    assert runner.run_once() == 1
    published = published_ids(kawal_broker)
    assert event_id_for(INSTITUTION, failing["id"], "ReportReceived") in published


def test_the_first_record_failed_on_says_to_read_it_again(
    kawal_broker: list[str], producer: KafkaProducer, checkpoints: CheckpointStore
) -> None:
    """No position precedes it: the letter points at section 6 rather than a position."""
    failing = report(summary="defect")
    runner = runner_of(
        Defective([failing], ValueError("x")), producer, checkpoints, ConnectorMetrics()
    )

    assert runner.run_once() == 1

    [letter] = letters_naming(kawal_broker, failing["id"])
    assert letter["reason"].endswith(
        "once it is fixed, read the record again (docs/connectors.md, section 6)"
    )


class UnreadableSystem(AsItComes):
    """A connector whose reading has a defect until ``mended``: an export it cannot decode."""

    def __init__(self, reports: list[dict[str, Any]]) -> None:
        super().__init__(reports)
        self.mended = False

    def read(self, after: str | None, limit: int) -> Sequence[SourceRecord]:
        if not self.mended:
            b"\xe9".decode()  # one byte of another encoding in the export
        return super().read(after, limit)


def test_a_read_the_connector_fails_on_is_a_failed_pass_tried_again(
    kawal_broker: list[str],
    producer: KafkaProducer,
    checkpoints: CheckpointStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Before, the failure ended the connector, and every start met it again."""
    waiting = report()
    connector = UnreadableSystem([waiting])
    metrics = ConnectorMetrics()
    runner = runner_of(connector, producer, checkpoints, metrics)

    with caplog.at_level(logging.ERROR, logger="connectors.runtime"):
        assert runner.run_once() == 0

    [error] = [r.getMessage() for r in caplog.records]
    assert error.startswith(
        f"{NAME}: reading its system failed with UnicodeDecodeError, a defect of the connector "
        "(an outage is a TransientError); it is tried again at the next pass\n"
    )
    assert "in read" in error
    labels = {"connector": NAME, "institution": INSTITUTION}
    assert metrics.registry.get_sample_value("kawal_connector_up", labels) == 0
    assert checkpoints.get(NAME) is None
    connector.mended = True
    assert runner.run_once() == 1
    assert metrics.registry.get_sample_value("kawal_connector_up", labels) == 1
    published = published_ids(kawal_broker)
    assert event_id_for(INSTITUTION, waiting["id"], "ReportReceived") in published


@pytest.mark.parametrize(
    "source_id",
    [SECRET_NIP, "laporan-3374010101900001.csv#4", "budi@example.org#7", "x" * 200],
    ids=["nip", "nik-in-a-file-name", "e-mail", "long"],
)
def test_a_reference_that_looks_like_personal_data_is_withheld_from_the_log(
    kawal_broker: list[str],
    producer: KafkaProducer,
    checkpoints: CheckpointStore,
    caplog: pytest.LogCaptureFixture,
    source_id: str,
) -> None:
    """A system's own id may be a NIP or a file named after someone: the log never holds it."""
    refused = report(id=source_id, violation="FOO")
    runner = runner_of(AsItComes([refused]), producer, checkpoints, ConnectorMetrics())

    with caplog.at_level(logging.WARNING, logger="connectors.dead_letters"):
        assert runner.run_once() == 1

    [line] = [r.getMessage() for r in caplog.records if r.name == "connectors.dead_letters"]
    assert line.startswith(
        "dead-lettered record (its reference is withheld here: it looks like personal data or "
        f"is long) of {system_topic(NAME)} as "
    )
    assert source_id not in line
