"""The PPK's inbox: the contract, recommendations into the registry, the hub's refusals."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from connectors.base import (
    ConnectorConfig,
    FeedEntry,
    HubRefusal,
    InboundConnector,
    OutboundConnector,
)
from connectors.contract import OutboundContract, read_topic
from connectors.contract_base import FAST_RETRY
from connectors.errors import ConnectorConfigError, PermanentError
from connectors.feed_chains import FeedChains
from connectors.host import build, run_connector
from connectors.ids import event_id_for
from connectors.outbound_runner import OutboundRunner
from connectors.ppk.database import (
    DECREES,
    DRAFTED,
    NEW,
    NOTHING_TO_IMPOSE,
    RECOMMENDATIONS,
)
from connectors.ppk.simulator import DecreeRegistry, demo_setup
from connectors.signed_fixtures import contract_keyring, feed_disclosures, feed_entry_record
from schemas.envelope import envelope
from schemas.identity import case_id_for
from streams.domain.calendar import load_calendar
from streams.domain.commitments import reveal
from streams.domain.deadlines import due_instant, load_rules, update_clocks
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.lifecycle import FOLLOW_UP_RULE
from streams.domain.reasons import Reason, Rejection
from streams.domain.signing import SigningKey
from streams.hub.receipts import rejection_receipt
from streams.topics import DLQ, inbound_topic, outbound_topic
from tests.connectors.test_ppk import SEEDS, running, settings
from tests.hubtools import (
    RunningHub,
    case_of,
    recommendation,
    recommended_case,
    referred,
    report,
)
from tests.postgres import PostgresServer

PPK = "ppk.3374"
UNFIT = "sanction_level LIGHT is lighter than the recommended MEDIUM; impose at least MEDIUM"


def the_case() -> list[tuple[str, dict[str, Any]]]:
    """What the PPK's feed brings of a case before a decree: the recommendation."""
    case_id = report()["envelope"]["case_id"]
    return [("RecommendationIssued", recommendation(case_id))]


def inbox(registry: DecreeRegistry) -> OutboundConnector[ConnectorConfig]:
    connector = build("ppk-inbox", settings(registry))
    assert isinstance(connector, OutboundConnector)
    return connector


def entries(
    connector: OutboundConnector[ConnectorConfig], events: list[tuple[str, dict[str, Any]]]
) -> list[FeedEntry]:
    """Feed entries as the runtime hands them over."""
    found = []
    for event_type, record in events:
        entry = feed_entry_record(connector.context, event_type, record, PPK)
        shown = feed_disclosures(connector.context, entry, PPK)
        event = reveal(connector.context.codec.decode(entry["event"]).record, shown)
        found.append(FeedEntry(entry=entry, event=event, event_type=event_type))
    return found


def decree_event_id(number: str) -> str:
    """The event id ``ppk-decrees`` gives the SanctionImposed of decree ``number``."""
    return event_id_for(PPK, f"decree/{number}", "SanctionImposed")


def refusal_of(event_id: str | None, **changes: Any) -> HubRefusal:
    base = HubRefusal(
        event_id=event_id,
        case_id=case_id_for("bawaslu.33", "LP/1"),
        event_type="SanctionImposed",
        reason_code="unfit_sanction",
        reason=UNFIT,
        source=f"{inbound_topic(PPK)}:0:{uuid.uuid4().int % 10**6}",
        issued_at=datetime.now(UTC),
    )
    return HubRefusal(**(base.__dict__ | changes))


def rejection_of_decree(number: str, *, forged: bool = False) -> dict[str, Any]:
    """The receipt the hub signs refusing decree ``number``; ``forged``: someone else's key."""
    now = datetime.now(UTC)
    hub = contract_keyring().signing_key(HUB_INSTITUTION, now)
    if forged:  # the hub's key id, another key: whoever can write the feed
        hub = SigningKey(hub.key_id, Ed25519PrivateKey.generate())
    event = envelope(
        event_id=decree_event_id(number),
        case_id=case_id_for("bawaslu.33", "LP/1"),
        event_type="SanctionImposed",
        event_time=now,
        source=PPK,
        actor_ref="user:u-0001",
    )
    source = (inbound_topic(PPK), 0, uuid.uuid4().int % 10**6)
    return rejection_receipt(hub, Rejection(Reason.UNFIT_SANCTION, UNFIT), source, event, None)


class TestInboxContract(OutboundContract):
    connector_name = "ppk-inbox"

    def start_system(self, tmp_path: Path) -> AbstractContextManager[Any]:
        return running(None, tmp_path)

    def config(self, system: Any, tmp_path: Path) -> dict[str, Any]:
        return settings(system)

    def feed_events(self) -> list[tuple[str, dict[str, Any]]]:
        return the_case() + the_case()

    def effects(self, system: Any, event_id: str) -> int:
        counted = 0
        with system.engine.connect() as connection:
            query = select(func.count()).where(RECOMMENDATIONS.c.event_id == event_id)
            counted += connection.scalar(query) or 0
        return counted

    def unreachable(self, system: Any) -> AbstractContextManager[None]:
        return system.offline()  # type: ignore[no-any-return]

    def test_the_runner_believes_the_hubs_refusal_and_not_a_forged_one(
        self, system: Any, tmp_path: Path, kawal_broker: list[str]
    ) -> None:
        """Through the broker: a signed refusal marks its decree, a forged one is dead-lettered."""
        refused, untouched = (system.issue(*system.new_case_reference()) for _ in range(2))
        connector = self.outbound(system, tmp_path)
        codec = connector.context.codec
        consumer, producer = self._clients(connector, kawal_broker)
        runner = OutboundRunner(
            connector,
            consumer,
            producer,
            codec,
            FAST_RETRY,
            contract_keyring(),
            FeedChains(":memory:"),
        )
        feed = outbound_topic(PPK)
        try:
            forged = rejection_of_decree(untouched, forged=True)
            sent = []
            for receipt in (rejection_of_decree(refused), forged):
                value = codec.encode("kawal.Receipt", receipt, checked=False)
                key = receipt["case_id"].encode()
                sent.append(producer.send(feed, key=key, value=value).get(30))
            handled = 0
            deadline = time.monotonic() + 30
            while handled < 2 and time.monotonic() < deadline:
                handled += runner.run_once(timeout_ms=100)
        finally:
            consumer.close()
            producer.close()
            connector.close()

        refusal = system.refusal_of(_decree_id(system, refused))
        assert refusal is not None
        assert (refusal["reason_code"], refusal["reason"]) == ("unfit_sanction", UNFIT)
        assert system.refusal_of(_decree_id(system, untouched)) is None
        decoded = [codec.decode(record.value).record for record in read_topic(kawal_broker, DLQ)]
        letters = [
            letter
            for letter in decoded
            if (letter["source_topic"], letter["source_offset"]) == (feed, sent[1].offset)
        ]
        assert [letter["reason_code"] for letter in letters] == ["hub_signature_invalid"]


class TestInboxContractOnPostgres(TestInboxContract):
    server: PostgresServer

    @pytest.fixture(autouse=True)
    def _server(self, postgres: PostgresServer) -> None:
        self.server = postgres

    def start_system(self, tmp_path: Path) -> AbstractContextManager[Any]:
        return running(self.server.create_database(f"ppk_{next(SEEDS)}"), tmp_path)

    def test_a_registry_without_the_inbox_tables_refuses_saying_which(
        self, system: Any, tmp_path: Path
    ) -> None:
        """A write PostgreSQL refuses (here: no such table) is permanent, not an outage."""
        number = system.issue(*system.new_case_reference())
        with system.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE hub_refusals")
        connector = self.outbound(system, tmp_path)

        with pytest.raises(PermanentError) as refused:
            connector.refused(refusal_of(decree_event_id(number)))

        assert refused.value.reason_code == "registry_refused"
        assert "UndefinedTable" in refused.value.reason
        assert "hub_refusals" in refused.value.reason
        connector.close()


def test_a_sqlite_registry_without_the_inbox_tables_refuses_and_is_no_outage(
    registry: DecreeRegistry,
) -> None:
    """SQLite's "no such table" comes under the error class of a locked database."""
    number = registry.issue(*registry.new_case_reference())
    with registry.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE hub_refusals")
    connector = inbox(registry)

    with pytest.raises(PermanentError) as refused:
        connector.refused(refusal_of(decree_event_id(number)))

    assert refused.value.reason_code == "registry_refused"
    assert "OperationalError" in refused.value.reason
    assert "hub_refusals" in refused.value.reason


def _decree_id(registry: DecreeRegistry, number: str) -> int:
    with registry.engine.connect() as connection:
        found = connection.scalar(select(DECREES.c.id).where(DECREES.c.decree_number == number))
    assert found is not None
    return int(found)


@pytest.fixture
def registry(tmp_path: Path) -> Any:
    with running(None, tmp_path) as registry:
        yield registry


def test_an_event_id_reused_in_another_case_puts_both_recommendations_in_the_tray(
    registry: DecreeRegistry,
) -> None:
    # The hub refuses an event id again within its case only: before, the registry, unique on
    # the event id alone, dropped the second case's recommendation silently.
    connector = inbox(registry)
    [(kind, first)], [(_, second)] = the_case(), the_case()
    second["envelope"]["event_id"] = first["envelope"]["event_id"]
    one, other = entries(connector, [(kind, first), (kind, second)])

    for delivered in (one, other, one):
        connector.deliver(delivered)

    rows = registry.recommendations()
    assert sorted(row["case_id"] for row in rows) == sorted([one.case_id, other.case_id])


def test_a_recommendation_goes_into_the_in_tray_and_the_office_drafts_its_decree(
    registry: DecreeRegistry,
) -> None:
    connector = inbox(registry)
    (recommended,) = entries(connector, the_case())
    connector.deliver(recommended)

    (row,) = registry.recommendations()
    assert (row["event_id"], row["case_id"], row["authority"], row["status"]) == (
        recommended.event_id,
        recommended.case_id,
        "bkn",
        NEW,
    )
    assert (row["sanction_level"], row["sanction_kind"], row["follow_up_days"]) == (
        "MEDIUM",
        "ALLOWANCE_CUT_25_6_MONTHS",
        14,
    )
    assert row["recorded_at"].replace(tzinfo=UTC) == recommended.entry["recorded_at"]
    registry.work_once()
    (drafted,) = registry.recommendations()
    decree = registry.decree(drafted["decree_id"])
    assert drafted["status"] == DRAFTED
    assert (decree["case_id"], decree["sanction_kind"]) == (
        recommended.case_id,
        "ALLOWANCE_CUT_25_6_MONTHS",
    )
    connector.close()


def test_the_in_tray_shows_the_last_day_the_hub_counts_for_the_follow_up(
    registry: DecreeRegistry,
) -> None:
    connector = inbox(registry)
    events = the_case()
    # Recorded the Friday before Christmas 2024: the hub skips Christmas, its collective leave
    # and New Year's Day, so 14 working days end after the 14th weekday (9 January 2025).
    recorded_at = datetime(2024, 12, 20, 3, 0, tzinfo=UTC)
    events[0][1]["envelope"]["event_time"] = recorded_at - timedelta(hours=1)
    (recommended,) = entries(connector, events)
    recommended.entry["recorded_at"] = recorded_at
    connector.deliver(recommended)

    (row,) = registry.recommendations()
    case, _ = recommended_case()
    update_clocks(
        case,
        load_rules(),
        load_calendar(),
        "RecommendationIssued",
        recommended.event,
        received_at=recorded_at,
    )
    (clock,) = [c for c in case.clocks if c["rule_id"] == FOLLOW_UP_RULE]
    assert due_instant(row["follow_up_due_on"]).isoformat() == clock["due_at"]
    assert row["follow_up_due_on"] > date(2025, 1, 9)
    connector.close()


def test_a_calendar_file_that_does_not_fit_is_refused_naming_it(
    registry: DecreeRegistry, tmp_path: Path
) -> None:
    broken = tmp_path / "calendar.toml"
    broken.write_text("[[override]]\nday = 1\n")

    with pytest.raises(ConnectorConfigError, match="calendar_file"):
        build("ppk-inbox", settings(registry) | {"calendar_file": str(broken)})
    # One that cannot be read says to mend the connector's key, not the hub's setting.
    missing = str(tmp_path / "nope" / "calendar.toml")
    with pytest.raises(ConnectorConfigError) as refused:
        build("ppk-inbox", settings(registry) | {"calendar_file": missing})
    assert "point the connector's calendar_file at a readable file" in str(refused.value)
    assert "KAWAL_CALENDAR_FILE" not in str(refused.value)


def test_a_registry_made_before_the_due_date_takes_recommendations_without_it(
    registry: DecreeRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    with registry.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE recommendations DROP COLUMN follow_up_due_on")
    connector = inbox(registry)
    first, second = entries(connector, the_case() + the_case())

    with caplog.at_level(logging.WARNING, logger="kawal.connector"):
        connector.deliver(first)
        connector.deliver(second)

    with registry.engine.connect() as connection:
        cases = connection.exec_driver_sql("SELECT case_id FROM recommendations").scalars()
        assert sorted(cases) == sorted([first.case_id, second.case_id])
    warnings = [r.getMessage() for r in caplog.records if "follow_up_due_on" in r.getMessage()]
    assert len(warnings) == 1
    assert "ADD COLUMN follow_up_due_on DATE" in warnings[0]
    connector.close()


def test_the_office_drafts_then_signs_a_kind_left_to_it_at_the_lightest_of_its_level(
    registry: DecreeRegistry,
) -> None:
    connector = inbox(registry)
    events = the_case()
    events[0][1].update(sanction_level="HEAVY", sanction_kind=None)
    for entry in entries(connector, events):
        connector.deliver(entry)
    decrees = build("ppk-decrees", settings(registry))
    assert isinstance(decrees, InboundConnector)

    registry.work_once()  # drafts
    assert decrees.read(None, 10) == []
    registry.work_once()  # signs
    (event,) = decrees.to_events(decrees.read(None, 10)[0])

    (row,) = registry.recommendations()
    assert row["sanction_kind"] is None
    assert event.record["envelope"]["case_id"] == row["case_id"]
    assert (event.record["sanction_level"], event.record["sanction_kind"]) == (
        "HEAVY",
        "DEMOTION_12_MONTHS",
    )
    decrees.close()
    connector.close()


def test_an_unproven_recommendation_is_kept_with_nothing_to_impose(
    registry: DecreeRegistry,
) -> None:
    connector = inbox(registry)
    events = the_case()
    events[0][1].update(proven=False, sanction_level=None, sanction_kind=None)
    for entry in entries(connector, events):
        connector.deliver(entry)

    registry.work_once()

    (row,) = registry.recommendations()
    assert (row["proven"], row["status"], row["decree_id"]) == (False, NOTHING_TO_IMPOSE, None)
    assert row["follow_up_due_on"] is None
    connector.close()


def test_a_refusal_marks_its_decree_without_changing_it(registry: DecreeRegistry) -> None:
    number = registry.issue(*registry.new_case_reference())
    decree_id = _decree_id(registry, number)
    before = registry.decree(decree_id)
    connector = inbox(registry)
    refusal = refusal_of(decree_event_id(number))

    connector.refused(refusal)
    connector.refused(refusal)  # delivered again after a restart

    marked = registry.refusal_of(decree_id)
    assert marked is not None
    assert (marked["reason_code"], marked["reason"], marked["source"]) == (
        "unfit_sanction",
        UNFIT,
        refusal.source,
    )
    assert registry.decree(decree_id) == before  # ppk-decrees does not read it again
    assert registry.unmatched_refusals() == []
    connector.close()


def test_a_refusal_of_no_decree_is_kept_unmatched_and_warned(
    registry: DecreeRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    registry.issue(*registry.new_case_reference())
    connector = inbox(registry)
    unknown = refusal_of(decree_event_id("800.1.6/999/NOPE/2024"))
    unreadable = refusal_of(None, event_type=None, case_id=None, reason_code="undecodable")

    with caplog.at_level(logging.WARNING):
        for refusal in (unknown, unreadable):
            connector.refused(refusal)

    kept = registry.unmatched_refusals()
    assert sorted(row["source"] for row in kept) == sorted([unknown.source, unreadable.source])
    warned = [
        r.getMessage() for r in caplog.records if "no decree of the registry" in r.getMessage()
    ]
    assert len(warned) == 2
    assert (
        f"SanctionImposed {unknown.event_id} the hub refused (case {unknown.case_id})"
        in (warned[0])
    )
    connector.close()


def test_a_duplicate_is_no_refusal_of_the_decree(registry: DecreeRegistry) -> None:
    number = registry.issue(*registry.new_case_reference())
    connector = inbox(registry)

    connector.refused(refusal_of(decree_event_id(number), reason_code="duplicate_event"))

    assert registry.refusal_of(_decree_id(registry, number)) is None
    assert registry.unmatched_refusals() == []
    connector.close()


def test_the_demo_runs_the_inbox_on_the_registry(tmp_path: Path) -> None:
    registry, configs = demo_setup(tmp_path)
    try:
        assert configs["ppk-inbox"] == configs["ppk-decrees"]
        assert configs["ppk-inbox"]["database_url"] == registry.url
    finally:
        registry.stop()


@pytest.mark.slow
def test_the_hub_brings_the_recommendation_and_refuses_a_lighter_decree(
    hub: RunningHub, tmp_path: Path
) -> None:
    first = referred(hub)
    case_id = case_of(first)
    recommended = recommendation(case_id)
    hub.step("RecommendationIssued", recommended)
    with running(None, tmp_path) as registry:
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=run_connector,
                args=(build(name, settings(registry) | {"poll_seconds": 0.3}), hub.bootstrap),
                kwargs={"home": tmp_path / name, "stop": stop, "keyring": hub.publisher.keyring},
                daemon=True,
            )
            for name in ("ppk-inbox", "ppk-decrees")
        ]
        for thread in threads:
            thread.start()
        try:
            _until(lambda: _recommended(registry, case_id), "the recommendation in the registry")
            row = _recommended(registry, case_id)
            assert row is not None
            assert (row["event_id"], row["sanction_level"]) == (
                recommended["envelope"]["event_id"],
                "MEDIUM",
            )
            lighter = registry.draft(None, None, "LIGHT", "ORAL_REPRIMAND", case_id=case_id)
            registry.sign(lighter)
            _until(lambda: registry.refusal_of(lighter), "the hub's refusal in the registry")
            refusal = registry.refusal_of(lighter)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=20)
    assert refusal is not None
    assert (refusal["reason_code"], refusal["case_id"]) == ("unfit_sanction", case_id)
    assert "MEDIUM" in refusal["reason"]


def _recommended(registry: DecreeRegistry, case_id: str) -> dict[str, Any] | None:
    return next((r for r in registry.recommendations() if r["case_id"] == case_id), None)


def _until(condition: Any, what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} not within {seconds} s"
        time.sleep(0.3)
