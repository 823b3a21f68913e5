"""The PPK's decree connector: the contract on SQLite and PostgreSQL, and more."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from connectors.contract import InboundContract
from connectors.errors import ConnectorConfigError, PermanentError
from connectors.host import build
from connectors.ppk.connector import Decrees
from connectors.ppk.database import DECREES
from connectors.ppk.simulator import DecreeRegistry
from connectors.runtime import json_bytes
from schemas.catalog import default_catalog
from streams.domain.authorization import authorize
from streams.domain.institutions import load_institutions
from streams.domain.lifecycle import Phase, advance, check_transition, start
from tests.hubtools import recommendation, report, until_referral
from tests.postgres import PostgresServer

#: Each registry gets its own seed, so registries of one run number decrees differently.
SEEDS = itertools.count(101)


@contextmanager
def running(url: str | None, tmp_path: Path) -> Iterator[DecreeRegistry]:
    seed = next(SEEDS)
    if url is None:
        registry = DecreeRegistry.on_sqlite(tmp_path / "ppk", seed=seed)
    else:
        registry = DecreeRegistry(url, seed=seed)
    try:
        yield registry
    finally:
        registry.stop()


def settings(registry: DecreeRegistry) -> dict[str, Any]:
    return {"institution": "ppk.3374", "database_url": registry.url, "timeout_seconds": 0.5}


class TestDecrees(InboundContract):
    connector_name = "ppk-decrees"

    def start_system(self, tmp_path: Path) -> AbstractContextManager[Any]:
        return running(None, tmp_path)

    def config(self, system: Any, tmp_path: Path) -> dict[str, Any]:
        return settings(system)

    def add_records(self, system: Any, count: int) -> None:
        for _ in range(count):
            system.issue(*system.new_case_reference())

    def add_malformed(self, system: Any) -> None:
        system.write_invalid_decree("sanction")

    def unreachable(self, system: Any) -> AbstractContextManager[None]:
        return system.offline()  # type: ignore[no-any-return]


class TestDecreesOnPostgres(TestDecrees):
    server: PostgresServer

    @pytest.fixture(autouse=True)
    def _server(self, postgres: PostgresServer) -> None:
        self.server = postgres

    def start_system(self, tmp_path: Path) -> AbstractContextManager[Any]:
        return running(self.server.create_database(f"ppk_{next(SEEDS)}"), tmp_path)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[DecreeRegistry]:
    with running(None, tmp_path) as started:
        yield started


def decrees(registry: DecreeRegistry) -> Decrees:
    connector = build("ppk-decrees", settings(registry))
    assert isinstance(connector, Decrees)
    return connector


def test_a_draft_signed_after_later_decrees_is_still_read(registry: DecreeRegistry) -> None:
    early = registry.draft(*registry.new_case_reference())
    registry.issue(*registry.new_case_reference())
    connector = decrees(registry)
    (first,) = connector.read(None, 10)  # the draft is not final: not read

    registry.sign(early)  # signed now, with the lower row id
    (second,) = connector.read(first.position, 10)

    assert second.source_id == f"decree/{early}"
    (event,) = connector.to_events(second)
    assert event.record["decree_number"] == registry.decree(early)["decree_number"]
    assert connector.read(second.position, 10) == []
    connector.close()


@pytest.mark.parametrize(
    ("signer", "actor_ref"),
    [("u-0042", "user:u-0042"), ("Budi Santoso", None), ("198503152010011002", None)],
    ids=["user-id", "name", "nip"],
)
def test_only_an_internal_user_id_is_quoted_as_the_actor(
    registry: DecreeRegistry, signer: str, actor_ref: str | None
) -> None:
    # actor_ref travels in clear to every party and no erasure reaches it.
    registry.sign(registry.draft(*registry.new_case_reference()), signed_by=signer)
    connector = decrees(registry)

    (record,) = connector.read(None, 10)
    (event,) = connector.to_events(record)

    expected = actor_ref or f"system:{settings(registry)['institution']}"
    assert event.record["envelope"]["actor_ref"] == expected
    connector.close()


@pytest.mark.parametrize(
    ("zone", "signed"),
    [
        ({}, datetime(2026, 12, 1, 15, 0, tzinfo=UTC)),
        ({"timezone": "Asia/Jakarta"}, datetime(2026, 12, 1, 8, 0, tzinfo=UTC)),
    ],
    ids=["utc-by-default", "wib-when-configured"],
)
def test_a_time_kept_without_its_zone_is_read_in_the_configured_one(
    registry: DecreeRegistry, zone: dict[str, str], signed: datetime
) -> None:
    decree_id = registry.draft(*registry.new_case_reference())
    registry.sign(decree_id)
    with registry.engine.begin() as connection:  # a system that keeps WIB wall time
        wall_time = datetime(2026, 12, 1, 15, 0)  # noqa: DTZ001 - the zone is what it lacks
        connection.execute(
            update(DECREES).where(DECREES.c.id == decree_id).values(signed_at=wall_time)
        )
    connector = build("ppk-decrees", settings(registry) | zone)
    assert isinstance(connector, Decrees)

    (record,) = connector.read(None, 10)
    (event,) = connector.to_events(record)

    assert event.record["envelope"]["event_time"] == signed
    connector.close()


def test_an_unknown_time_zone_is_a_configuration_error(registry: DecreeRegistry) -> None:
    with pytest.raises(ConnectorConfigError, match=r"timezone: .*must be an IANA time zone"):
        build("ppk-decrees", settings(registry) | {"timezone": "WIB"})


def test_the_registry_numbers_changes_in_commit_order(postgres: PostgresServer) -> None:
    """What the checkpoint relies on: no change can be seen before one with a lower number."""
    with running(postgres.create_database(f"ppk_{next(SEEDS)}"), Path()) as registry:
        other = registry.draft(*registry.new_case_reference())
        signed = threading.Event()

        def sign() -> None:
            registry.sign(other)
            signed.set()

        signer = threading.Thread(target=sign)
        with registry.open_change() as pending:
            signer.start()
            assert not signed.wait(0.5), "a change went ahead of an open one"
        signer.join(10)

        assert signed.is_set()
        assert registry.decree(other)["change_seq"] > registry.decree(pending)["change_seq"]


@pytest.mark.parametrize(
    ("flaw", "reason_code"),
    [
        ("sanction", "invalid_sanction"),
        ("kind", "inconsistent_decree"),
        ("case", "missing_case_reference"),
        ("case_id", "invalid_case_id"),
        ("nip", "invalid_subject_nip"),
    ],
)
def test_an_invalid_decree_is_refused_without_personal_data(
    registry: DecreeRegistry, flaw: str, reason_code: str
) -> None:
    registry.write_invalid_decree(flaw)
    connector = decrees(registry)
    (record,) = connector.read(None, 10)
    subject = registry.decree(int(record.source_id.removeprefix("decree/")))

    with pytest.raises(PermanentError) as refused:
        connector.to_events(record)

    assert refused.value.reason_code == reason_code
    dead_letter = refused.value.reason.encode() + json_bytes(record.payload)
    assert subject["subject_name"].encode() not in dead_letter
    assert subject["subject_nip"].encode() not in dead_letter
    connector.close()


def test_a_decree_naming_the_hubs_case_id_is_of_that_case(registry: DecreeRegistry) -> None:
    case_id = report("bawaslu.33")["envelope"]["case_id"]
    registry.issue(None, None, case_id=case_id.upper())  # a registry may keep it upper case
    connector = decrees(registry)

    (event,) = connector.to_events(connector.read(None, 10)[0])

    assert event.record["envelope"]["case_id"] == case_id
    connector.close()


def test_a_revoked_decree_is_dead_lettered_and_a_discarded_draft_ignored(
    registry: DecreeRegistry,
) -> None:
    signed = registry.draft(*registry.new_case_reference())
    registry.sign(signed)
    discarded = registry.draft(*registry.new_case_reference())
    connector = decrees(registry)
    checkpoint = connector.read(None, 10)[-1].position

    registry.revoke(signed)
    registry.revoke(discarded)
    (revoked,) = connector.read(checkpoint, 10)

    assert revoked.source_id == f"decree/{signed}"
    with pytest.raises(PermanentError) as refused:
        connector.to_events(revoked)
    assert refused.value.reason_code == "decree_revoked"
    connector.close()


def test_the_sanction_follows_the_hub_lifecycle(registry: DecreeRegistry) -> None:
    first = report("bawaslu.33")
    case_id = first["envelope"]["case_id"]
    state = start(first, "bkn")
    for event_type, record in [
        *until_referral(case_id),
        ("RecommendationIssued", recommendation(case_id)),
    ]:
        state = advance(state, event_type, record)
    registry.issue(
        "bawaslu.33", first["case_number"], level="MEDIUM", kind="ALLOWANCE_CUT_25_9_MONTHS"
    )
    connector = decrees(registry)

    (event,) = connector.to_events(connector.read(None, 10)[0])

    ppk = {inst.id: inst for inst in load_institutions()}["ppk.3374"]
    assert event.record["envelope"]["case_id"] == case_id
    assert check_transition(state, event.event_type, event.record) is None
    assert authorize(default_catalog(), ppk, event.event_type, event.record, state, "bkn") is None
    assert advance(state, event.event_type, event.record).phase is Phase.SANCTIONED
    connector.close()


def test_a_checkpoint_past_a_new_registry_reads_it_from_its_start(
    registry: DecreeRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    # A home a demo used keeps the demo's checkpoint: reading after it skipped these for good.
    registry.issue(*registry.new_case_reference())
    registry.issue(*registry.new_case_reference())
    connector = decrees(registry)

    with caplog.at_level("WARNING"):
        records = connector.read("24", 10)

    assert len(records) == 2
    assert "past the last record of the decree registry" in caplog.text
    # Once the runtime stored a checkpoint of this registry, it is read after it.
    assert connector.read(records[-1].position, 10) == []
    connector.close()
