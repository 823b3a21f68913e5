"""The recommending authority's connectors: the contract on SQLite and PostgreSQL, and more."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from connectors.authority.connector import CaseStatus, Outbox
from connectors.authority.simulator import AuthoritySystem, Letter, demo_setup
from connectors.base import FeedEntry, SourceRecord
from connectors.contract import InboundContract, OutboundContract
from connectors.errors import ConnectorConfigError, PermanentError, TransientError
from connectors.host import build
from connectors.signed_fixtures import feed_disclosures, feed_entry_record
from schemas.catalog import default_catalog
from streams.domain.authority import load_authority_map
from streams.domain.authorization import authorize
from streams.domain.commitments import reveal
from streams.domain.institutions import load_institutions
from streams.domain.lifecycle import Phase, advance, check_transition, start
from tests.hubtools import referral, report, sanction, until_referral
from tests.postgres import PostgresServer

#: Each system gets its own seed, so systems of one run invent different case numbers.
SEEDS = itertools.count(1)


@contextmanager
def running(url: str | None, tmp_path: Path) -> Iterator[AuthoritySystem]:
    seed = next(SEEDS)
    if url is None:
        system = AuthoritySystem.on_sqlite(tmp_path / "authority", seed=seed)
    else:
        system = AuthoritySystem(url, seed=seed)
    try:
        yield system
    finally:
        system.stop()


def settings(system: AuthoritySystem) -> dict[str, Any]:
    return {"institution": "bkn", "database_url": system.url, "timeout_seconds": 0.5}


class OnPostgres:
    """Runs a contract class against a fresh PostgreSQL database per test."""

    server: PostgresServer

    @pytest.fixture(autouse=True)
    def _server(self, postgres: PostgresServer) -> None:
        self.server = postgres

    def start_system(self, tmp_path: Path) -> AbstractContextManager[Any]:
        return running(self.server.create_database(f"authority_{next(SEEDS)}"), tmp_path)


class TestOutbox(InboundContract):
    connector_name = "authority-outbox"

    def start_system(self, tmp_path: Path) -> AbstractContextManager[Any]:
        return running(None, tmp_path)

    def config(self, system: Any, tmp_path: Path) -> dict[str, Any]:
        return settings(system)

    def add_records(self, system: Any, count: int) -> None:
        for _ in range(count):
            system.issue_recommendation(system.open_case())

    def add_malformed(self, system: Any) -> None:
        system.corrupt_outbox_row(system.issue_recommendation(system.open_case()))

    def unreachable(self, system: Any) -> AbstractContextManager[None]:
        return system.offline()  # type: ignore[no-any-return]


class TestOutboxOnPostgres(OnPostgres, TestOutbox):
    pass


class TestCaseStatus(OutboundContract):
    connector_name = "authority-status"

    def start_system(self, tmp_path: Path) -> AbstractContextManager[Any]:
        return running(None, tmp_path)

    def config(self, system: Any, tmp_path: Path) -> dict[str, Any]:
        return settings(system)

    def feed_events(self) -> list[tuple[str, dict[str, Any]]]:
        first = report()
        return [
            ("ReportReceived", first),
            ("ReferralForwarded", referral(first["envelope"]["case_id"])),
        ]

    def effects(self, system: Any, event_id: str) -> int:
        return system.deliveries(event_id)  # type: ignore[no-any-return]

    def unreachable(self, system: Any) -> AbstractContextManager[None]:
        return system.offline()  # type: ignore[no-any-return]


class TestCaseStatusOnPostgres(OnPostgres, TestCaseStatus):
    pass


# The inbound mapping ------------------------------------------------------------------------


@pytest.fixture
def system(tmp_path: Path) -> Iterator[AuthoritySystem]:
    with running(None, tmp_path) as started:
        yield started


def outbox(system: AuthoritySystem, **overrides: Any) -> Outbox:
    connector = build("authority-outbox", settings(system) | overrides)
    assert isinstance(connector, Outbox)
    return connector


def case_status(system: AuthoritySystem) -> CaseStatus:
    connector = build("authority-status", settings(system))
    assert isinstance(connector, CaseStatus)
    return connector


def mapped(connector: Outbox, record: SourceRecord) -> dict[str, Any]:
    (event,) = connector.to_events(record)
    codec = connector.context.codec
    return dict(codec.decode(codec.encode(event.event_type, event.record)).record)


def test_each_staff_action_maps_to_its_event(system: AuthoritySystem) -> None:
    case = system.open_case("bawaslu.33", "017/LP/PB/33/XI/2024", "ETHICS_SOCIAL_MEDIA_CAMPAIGN")
    other = system.open_case("bawaslu", "001/Reg/LP/PL/RI/XI/2024")
    system.request_clarification(case, questions="Who took the photograph?")
    system.issue_recommendation(case)
    system.close_case(case, reason="MERGED_INTO_ANOTHER_CASE", merged_into=other, remarks="Same.")
    connector = outbox(system)

    clarification, recommendation, closure = (
        mapped(connector, record) for record in connector.read(None, 10)
    )

    assert clarification["envelope"]["case_id"] == case.hub_case_id
    assert clarification["requested_from"] == "PPK"
    assert clarification["addressee"] == "ppk.3374"
    assert recommendation["authority"] == "bkn"
    assert recommendation["sanction_level"] == "ETHICS_MORAL"  # fits the ethics violation
    assert recommendation["envelope"]["actor_ref"] == "user:u-0007"
    assert closure["closing_reason"] == "MERGED_INTO_ANOTHER_CASE"
    assert closure["merged_into_case_id"] == other.hub_case_id
    assert closure["remarks"] == "Same."
    connector.close()


@pytest.mark.parametrize(
    ("zone", "created"),
    [
        ({}, "2026-12-01T15:00:00+00:00"),
        ({"timezone": "Asia/Jakarta"}, "2026-12-01T08:00:00+00:00"),
    ],
    ids=["utc-by-default", "wib-when-configured"],
)
def test_an_outbox_time_kept_without_its_zone_is_read_in_the_configured_one(
    system: AuthoritySystem, zone: dict[str, str], created: str
) -> None:
    case = system.open_case("bawaslu.33", "018/LP/PB/33/XI/2024")
    system.issue_recommendation(case)
    with system.engine.begin() as connection:  # a system that keeps WIB wall time
        connection.execute(text("UPDATE outbox SET created_at = '2026-12-01 15:00:00.000000'"))
    connector = outbox(system, **zone)

    (record,) = connector.read(None, 10)

    assert mapped(connector, record)["envelope"]["event_time"].isoformat() == created
    connector.close()


def test_the_authoritys_events_follow_the_hub_lifecycle(system: AuthoritySystem) -> None:
    catalog = default_catalog()
    first = report("bawaslu.33")
    case_id = first["envelope"]["case_id"]
    authority = load_authority_map().authority_on(first["envelope"]["event_time"])
    sender = {inst.id: inst for inst in load_institutions()}[authority]
    state = start(first, authority)
    for event_type, record in until_referral(case_id):
        state = advance(state, event_type, record)
    case = system.open_case("bawaslu.33", first["case_number"])
    system.request_clarification(case)
    system.issue_recommendation(case, level="MEDIUM", kind="ALLOWANCE_CUT_25_6_MONTHS")
    connector = outbox(system, institution=authority)
    steps = [
        (e.event_type, e.record) for r in connector.read(None, 10) for e in connector.to_events(r)
    ]
    steps.append(("SanctionImposed", sanction(case_id)))  # the PPK's, between the two
    system.close_case(case, final_sanction=("MEDIUM", "ALLOWANCE_CUT_25_6_MONTHS"))
    (closed,) = connector.to_events(connector.read("2", 1)[0])
    steps.append((closed.event_type, closed.record))

    for event_type, record in steps:
        assert record["envelope"]["case_id"] == case_id
        assert check_transition(state, event_type, record) is None, event_type
        if record["envelope"]["source"] == authority:
            assert authorize(catalog, sender, event_type, record, state, authority) is None
        state = advance(state, event_type, record)

    assert state.phase is Phase.CLOSED
    connector.close()


@pytest.mark.parametrize(
    ("payload", "reason_code"),
    [
        ({"proven": True, "violation": "DISCIPLINE_PARTISAN_SUPPORT"}, "inconsistent_payload"),
        ({"proven": "yes", "violation": "DISCIPLINE_PARTISAN_SUPPORT"}, "malformed_payload"),
        ({"proven": True, "violation": "Budi Santoso"}, "invalid_code"),
        (
            {"proven": True, "violation": "ETHICS_BANNER", "sanction_level": "UNKNOWN"},
            "invalid_code",
        ),
        (
            {
                "proven": True,
                "violation": "DISCIPLINE_PARTISAN_SUPPORT",
                "sanction_level": "LIGHT",
                "sanction_kind": "DEMOTION_12_MONTHS",
            },
            "inconsistent_payload",
        ),
        (
            {"proven": False, "violation": "ETHICS_BANNER", "actor": "Budi Santoso"},
            "malformed_payload",
        ),
        (  # a NIP: actor_ref travels in clear to every party
            {"proven": False, "violation": "ETHICS_BANNER", "actor": "Budi-198503152010011002"},
            "malformed_payload",
        ),
    ],
)
def test_an_unmappable_payload_is_refused_without_its_values(
    system: AuthoritySystem, payload: dict[str, Any], reason_code: str
) -> None:
    system.write_outbox_row("recommendation.issued", system.open_case(), payload)
    connector = outbox(system)

    with pytest.raises(PermanentError) as refused:
        connector.to_events(connector.read(None, 1)[0])

    assert refused.value.reason_code == reason_code
    assert "Budi" not in refused.value.reason
    connector.close()


def test_a_row_without_its_case_or_of_an_unknown_kind_is_refused(system: AuthoritySystem) -> None:
    closure = {"closing_reason": "NOT_PROVEN", "closed_on": "2024-12-02"}
    system.write_outbox_row("case.closed", None, closure)
    system.write_outbox_row("case.reassigned", system.open_case(), {"to": "u-0009"})
    connector = outbox(system)
    anonymous, unknown = connector.read(None, 10)

    with pytest.raises(PermanentError) as no_case:
        connector.to_events(anonymous)
    with pytest.raises(PermanentError) as no_event:
        connector.to_events(unknown)

    assert no_case.value.reason_code == "missing_case_reference"
    assert no_event.value.reason_code == "unknown_event_kind"
    assert "'case.reassigned'" in no_event.value.reason
    connector.close()


def test_published_marks_do_not_steer_the_reads(system: AuthoritySystem) -> None:
    for _ in range(2):
        system.issue_recommendation(system.open_case())
    connector = outbox(system)
    records = connector.read(None, 10)

    connector.acknowledge(records[:1])
    with system.offline():
        connector.acknowledge(records[1:])  # best effort: no error while the database is away

    assert system.outbox_row(1)["published_at"] is not None
    assert system.outbox_row(2)["published_at"] is None
    assert [r.source_id for r in connector.read(None, 10)] == ["outbox/1", "outbox/2"]
    connector.close()


def test_a_fresh_gap_in_the_ids_is_waited_for(system: AuthoritySystem) -> None:
    system.issue_recommendation(system.open_case())
    system.leave_gap()
    system.issue_recommendation(system.open_case())

    patient = outbox(system, gap_grace_seconds=60)
    hasty = outbox(system, gap_grace_seconds=0)

    assert [r.source_id for r in patient.read(None, 10)] == ["outbox/1"]
    assert [r.source_id for r in hasty.read(None, 10)] == ["outbox/1", "outbox/3"]
    patient.close()
    hasty.close()


def test_a_row_committed_late_with_a_lower_id_is_not_skipped(postgres: PostgresServer) -> None:
    with running(postgres.create_database(f"authority_{next(SEEDS)}"), Path()) as system:
        late = system.open_case()
        connector = outbox(system)
        with system.pending_outbox_row(late):
            system.issue_recommendation(system.open_case())  # id 2, visible before id 1
            assert connector.read(None, 10) == []
        assert [r.source_id for r in connector.read(None, 10)] == ["outbox/1", "outbox/2"]
        connector.close()


# The outbound status --------------------------------------------------------------------------


def entry(connector: CaseStatus, event_type: str, record: dict[str, Any], seq: int) -> FeedEntry:
    raw = feed_entry_record(connector.context, event_type, record, connector.institution)
    raw |= {"seq": seq}
    shown = feed_disclosures(connector.context, raw, connector.institution)
    event = reveal(connector.context.codec.decode(raw["event"]).record, shown)
    return FeedEntry(entry=raw, event=event, event_type=event_type)


def test_a_late_older_entry_never_hides_a_newer_status(system: AuthoritySystem) -> None:
    connector = case_status(system)
    first = report()
    case_id = first["envelope"]["case_id"]
    reported = entry(connector, "ReportReceived", first, 1)
    referred = entry(connector, "ReferralForwarded", referral(case_id), 4)

    for delivered in (referred, reported, referred):
        connector.deliver(delivered)

    status = system.case_status(case_id)
    assert status is not None
    assert (status["seq"], status["event_type"]) == (4, "ReferralForwarded")
    assert system.deliveries(reported.event_id) == system.deliveries(referred.event_id) == 1
    connector.close()


def test_an_event_id_a_sender_reused_in_another_case_is_stored_for_both(
    system: AuthoritySystem,
) -> None:
    # The hub refuses an event id again within its case only: before, the authority's table,
    # keyed on the event id alone, kept the first case's and dropped the second's silently.
    connector = case_status(system)
    first, second = report(), report()
    second["envelope"]["event_id"] = first["envelope"]["event_id"]

    for record in (first, second, first):
        connector.deliver(entry(connector, "ReportReceived", record, 1))

    assert system.deliveries(first["envelope"]["event_id"]) == 2
    for record in (first, second):
        assert system.case_status(record["envelope"]["case_id"]) is not None
    connector.close()


def test_a_held_write_lock_is_transient(system: AuthoritySystem) -> None:
    connector = case_status(system)
    first = report()

    with system.write_lock(), pytest.raises(TransientError, match="unreachable or busy"):
        connector.deliver(entry(connector, "ReportReceived", first, 1))

    connector.deliver(entry(connector, "ReportReceived", first, 1))
    assert system.case_status(first["envelope"]["case_id"]) is not None
    connector.close()


def test_tables_that_differ_are_refused_permanently(postgres: PostgresServer) -> None:
    with running(postgres.create_database(f"authority_{next(SEEDS)}"), Path()) as system:
        with system.engine.begin() as connection:
            connection.execute(text("ALTER TABLE hub_case_events DROP COLUMN entry_hash"))
        connector = case_status(system)

        with pytest.raises(PermanentError) as refused:
            connector.deliver(entry(connector, "ReportReceived", report(), 1))

        assert refused.value.reason_code == "database_refused"
        connector.close()


@pytest.mark.parametrize(
    ("zone", "wall_time"),
    [({}, "2026-12-01 08:00:00"), ({"timezone": "Asia/Jakarta"}, "2026-12-01 15:00:00")],
    ids=["utc-by-default", "wib-when-configured"],
)
def test_times_are_written_in_the_zone_the_database_keeps(
    system: AuthoritySystem, zone: dict[str, str], wall_time: str
) -> None:
    connector = build("authority-status", settings(system) | zone)
    assert isinstance(connector, CaseStatus)
    first = report()
    first["envelope"]["event_time"] = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

    connector.deliver(entry(connector, "ReportReceived", first, 1))

    with system.engine.connect() as connection:
        stored = connection.execute(text("SELECT event_time FROM case_status")).scalar_one()
    assert str(stored).startswith(wall_time)
    connector.close()


def test_a_postgresql_session_converts_in_the_configured_zone(
    postgres: PostgresServer,
) -> None:
    with running(postgres.create_database(f"authority_{next(SEEDS)}"), Path()) as system:
        connector = build("authority-status", settings(system) | {"timezone": "Asia/Jakarta"})
        assert isinstance(connector, CaseStatus)
        with connector.engine.connect() as connection:
            zone = connection.execute(text("SHOW TimeZone")).scalar_one()
        connector.close()

    assert zone == "Asia/Jakarta"


def test_a_bad_configuration_names_the_key_but_never_the_password() -> None:
    with pytest.raises(ConnectorConfigError) as unsupported:
        build("authority-status", {"institution": "bkn", "database_url": "mysql://u:s3cret@h/db"})
    with pytest.raises(ConnectorConfigError) as unknown:
        build("authority-outbox", {"institution": "bkn", "database_url": "sqlite://", "x": 1})

    assert "database_url" in str(unsupported.value)
    assert "mysql" in str(unsupported.value)
    assert "s3cret" not in str(unsupported.value)
    assert "x: Extra inputs are not permitted" in str(unknown.value)


# The simulated staff (demo) -------------------------------------------------------------------


def test_the_staff_act_on_what_the_hub_delivers(tmp_path: Path) -> None:
    system = AuthoritySystem.on_sqlite(tmp_path, seed=next(SEEDS), proven_share=1.0)
    letters: list[Letter] = []
    system.send_letters_to(letters.append)
    delivery = case_status(system)
    first = report()
    case_id = first["envelope"]["case_id"]
    delivery.deliver(entry(delivery, "ReportReceived", first, 1))
    delivery.deliver(entry(delivery, "ReferralForwarded", referral(case_id), 4))

    for _ in range(3):  # registers, recommends, then waits for the sanction
        system.work_once()
    delivery.deliver(entry(delivery, "SanctionImposed", sanction(case_id), 6))
    system.work_once()

    connector = outbox(system)
    events = [e for r in connector.read(None, 10) for e in connector.to_events(r)]
    assert [e.event_type for e in events] == ["RecommendationIssued", "CaseClosed"]
    assert {e.record["envelope"]["case_id"] for e in events} == {case_id}
    assert events[1].record["closing_reason"] == "SANCTION_IMPOSED"
    assert [(x.reported_by, x.case_number) for x in letters] == [
        ("bawaslu.33", first["case_number"])
    ]
    connector.close()
    delivery.close()
    system.stop()


def test_the_demo_setup_configures_both_connectors(tmp_path: Path) -> None:
    system, configs = demo_setup(tmp_path)
    system.start(interval_seconds=0.05)
    try:
        connectors = [build(name, config) for name, config in configs.items()]
        system.issue_recommendation(system.open_case())
        assert isinstance(connectors[0], Outbox)
        assert len(connectors[0].read(None, 10)) == 1
        for connector in connectors:
            connector.close()
    finally:
        system.stop()


def test_letters_issued_at_once_by_staff_and_callers_get_distinct_numbers(
    system: AuthoritySystem,
) -> None:
    cases = [system.open_case() for _ in range(24)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(system.issue_recommendation, cases))
    with system.engine.connect() as connection:
        numbers = connection.execute(text("SELECT letter_number FROM recommendations")).scalars()
        issued = list(numbers)
    assert len(issued) == len(set(issued)) == 24


def test_a_checkpoint_past_a_new_outbox_reads_it_from_its_start(
    system: AuthoritySystem, caplog: pytest.LogCaptureFixture
) -> None:
    connector = outbox(system)
    # Empty: nothing yet, and the checkpoint stays the old one; the rows come later.
    assert connector.read("4", 10) == []
    system.issue_recommendation(system.open_case())

    with caplog.at_level("WARNING"):
        records = connector.read("4", 10)

    assert [r.source_id for r in records] == ["outbox/1"]
    assert caplog.text.count("past the last record of the outbox") == 1
    assert connector.read("1", 10) == []
    connector.close()


def test_a_checkpoint_within_the_outbox_is_read_after(system: AuthoritySystem) -> None:
    for _ in range(2):
        system.issue_recommendation(system.open_case())
    connector = outbox(system)

    assert [r.source_id for r in connector.read("1", 10)] == ["outbox/2"]
    connector.close()
