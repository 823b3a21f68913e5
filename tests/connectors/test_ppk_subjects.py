"""Whom a recommendation is about, in the PPK's in-tray, and the decrees checked against it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from connectors.base import ConnectorConfig, FeedEntry, InboundConnector, OutboundConnector
from connectors.errors import PermanentError
from connectors.host import build
from connectors.ppk.database import ADDED_COLUMNS, missing_ddl, upgrade
from connectors.ppk.simulator import DecreeRegistry
from connectors.runtime import json_bytes
from connectors.signed_fixtures import feed_disclosures, feed_entry_record
from schemas.catalog import default_catalog
from streams.domain.commitments import reveal
from streams.domain.disclosure_policy import load_disclosure_policy
from tests.connectors.test_ppk import SEEDS, running, settings
from tests.connectors.test_ppk_inbox import PPK, inbox
from tests.event_samples import personnel_data_blocked
from tests.hubtools import recommendation, report
from tests.postgres import PostgresServer

SUBJECT_NIP, SUBJECT_NAME = "198501012010011001", "Test Subject"  # tests.hubtools.report's


def disclosed(
    connector: OutboundConnector[ConnectorConfig], events: list[tuple[str, dict[str, Any]]]
) -> list[FeedEntry]:
    """Feed entries as the PPK's connector opens them: only what the policy shows a PPK."""
    policy = load_disclosure_policy(None, default_catalog())
    found = []
    for event_type, record in events:
        entry = feed_entry_record(connector.context, event_type, record, PPK)
        shown = [
            item
            for item in feed_disclosures(connector.context, entry, PPK)
            if policy.may_see("ppk", event_type, item["field"])
        ]
        event = reveal(connector.context.codec.decode(entry["event"]).record, shown)
        found.append(FeedEntry(entry=entry, event=event, event_type=event_type))
    return found


def a_case() -> list[tuple[str, dict[str, Any]]]:
    """A case's report and its recommendation."""
    first = report()
    return [
        ("ReportReceived", first),
        ("RecommendationIssued", recommendation(first["envelope"]["case_id"])),
    ]


@pytest.fixture
def registry(tmp_path: Path) -> Any:
    with running(None, tmp_path) as registry:
        yield registry


def subjects(registry: DecreeRegistry) -> list[tuple[str, str | None, str | None]]:
    return [
        (row["case_id"], row["subject_nip"], row["subject_name"])
        for row in registry.recommendations()
    ]


@pytest.mark.parametrize("order", ["report-first", "recommendation-first"])
def test_the_recommendation_names_the_subject_the_hub_disclosed_to_the_ppk(
    registry: DecreeRegistry, order: str
) -> None:
    connector = inbox(registry)
    reported, recommended = disclosed(connector, a_case())
    assert reported.event["subject_nip"] == SUBJECT_NIP  # the policy shows it to a PPK
    assert reported.event["reporter_identity"] != "Test Reporter"  # and not the reporter
    delivered = [reported, recommended] if order == "report-first" else [recommended, reported]

    for entry in [*delivered, *delivered]:  # delivered again after a restart: one row
        connector.deliver(entry)

    assert subjects(registry) == [(recommended.case_id, SUBJECT_NIP, SUBJECT_NAME)]
    connector.close()


def test_a_withheld_name_is_not_written_and_a_block_brings_the_nip(
    registry: DecreeRegistry,
) -> None:
    connector = inbox(registry)
    reported, recommended = disclosed(connector, a_case())
    withheld = FeedEntry(
        entry=reported.entry,
        event=reported.event | {"subject_name": "sha256:" + "0" * 64},  # a commitment
        event_type="ReportReceived",
    )
    _, other = a_case()  # its report not in the PPK's feed
    block = personnel_data_blocked()
    block["envelope"]["case_id"] = other[1]["envelope"]["case_id"]
    entries = disclosed(connector, [other, ("PersonnelDataBlocked", block)])

    for entry in (recommended, withheld, *entries):
        connector.deliver(entry)

    assert sorted(subjects(registry)) == sorted(
        [
            (recommended.case_id, SUBJECT_NIP, None),
            (entries[0].case_id, block["subject_nip"], None),
        ]
    )
    connector.close()


def test_a_registry_made_before_the_subject_takes_recommendations_and_is_upgraded(
    registry: DecreeRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    with registry.engine.begin() as connection:
        for column in ("subject_nip", "subject_name"):
            connection.exec_driver_sql(f"ALTER TABLE recommendations DROP COLUMN {column}")
        connection.exec_driver_sql("DROP TABLE case_subjects")
    connector = inbox(registry)
    entries = disclosed(connector, a_case())

    with caplog.at_level(logging.WARNING, logger="kawal.connector"):
        for entry in entries:
            connector.deliver(entry)

    (warning,) = [r.getMessage() for r in caplog.records if "case_subjects" in r.getMessage()]
    assert "ADD COLUMN subject_nip VARCHAR(18)" in warning
    assert SUBJECT_NIP not in caplog.text
    with registry.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT case_id FROM recommendations").scalars()
        assert list(rows) == [entries[1].case_id]
    connector.close()

    upgrade(registry.engine)  # what the registry's own setup runs
    connector = inbox(registry)
    for entry in entries:
        connector.deliver(entry)
    assert subjects(registry) == [(entries[1].case_id, SUBJECT_NIP, SUBJECT_NAME)]
    connector.close()


def decrees_of(registry: DecreeRegistry) -> InboundConnector[ConnectorConfig]:
    connector = build("ppk-decrees", settings(registry))
    assert isinstance(connector, InboundConnector)
    return connector


def test_the_office_drafts_the_decree_for_the_subject_of_its_case(
    registry: DecreeRegistry,
) -> None:
    connector = inbox(registry)
    cases = [a_case(), a_case(), a_case()]
    cases[1][0][1].update(subject_nip="197001012000121002", subject_name="Dewi Lain")
    told = [entry for case in cases[:2] for entry in disclosed(connector, case)]
    told += disclosed(connector, cases[2][1:])  # no subject disclosed for the third case
    for entry in told:
        connector.deliver(entry)

    registry.work_once()  # drafts
    registry.work_once()  # signs

    named = {
        row["case_id"]: registry.decree(row["decree_id"])["subject_nip"]
        for row in registry.recommendations()
    }
    first, second, third = (case[1][1]["envelope"]["case_id"] for case in cases)
    assert (named[first], named[second]) == (SUBJECT_NIP, "197001012000121002")
    assert named[third] not in (SUBJECT_NIP, "197001012000121002")
    decrees = decrees_of(registry)
    assert len([decrees.to_events(record) for record in decrees.read(None, 10)]) == 3
    decrees.close()
    connector.close()


@pytest.mark.parametrize(
    ("nip", "reason_code"),
    [("197001012000121002", "subject_mismatch"), ("19800101200501100X", "invalid_subject_nip")],
    ids=["another-subject", "not-a-nip"],
)
def test_a_decree_for_another_subject_is_refused_without_quoting_a_nip(
    registry: DecreeRegistry, nip: str, reason_code: str
) -> None:
    connector = inbox(registry)
    for entry in disclosed(connector, a_case()):
        connector.deliver(entry)
    (row,) = registry.recommendations()
    registry.sign(
        registry.draft(None, None, case_id=row["case_id"].upper(), subject=(nip, "Agus W."))
    )
    decrees = decrees_of(registry)
    (record,) = decrees.read(None, 10)

    with pytest.raises(PermanentError) as refused:
        decrees.to_events(record)

    assert refused.value.reason_code == reason_code
    letter = refused.value.reason + json_bytes(record.payload).decode()
    assert not [secret for secret in (nip, SUBJECT_NIP, "Agus W.") if secret in letter]
    decrees.close()
    connector.close()


def test_the_registry_setup_upgrades_a_registry_made_before_on_postgresql(
    postgres: PostgresServer,
) -> None:
    with running(postgres.create_database(f"ppk_{next(SEEDS)}"), Path()) as made:
        with made.engine.begin() as connection:
            for table, column in ADDED_COLUMNS:
                connection.exec_driver_sql(f"ALTER TABLE {table.name} DROP COLUMN {column}")
            connection.exec_driver_sql("DROP TABLE case_subjects")
            assert set(missing_ddl(connection)) == {
                "case_subjects",
                *(f"{table.name}.{column}" for table, column in ADDED_COLUMNS),
            }
        with running(made.url, Path()) as again, again.engine.connect() as connection:
            assert missing_ddl(connection) == {}
