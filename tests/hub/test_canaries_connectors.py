"""Canaries through the reference connectors: what the institutions' systems send and receive.

:mod:`tests.hub.test_canaries` sends every event type itself, signed as each institution. This
module lets the reference connectors do it, against their simulators, on a hub whose broker
keeps its records in storage under ``KAWAL_HOME`` (tansu on SeaweedFS) and whose audit store
is a live PostgreSQL database:

- Bawaslu's case system posts, through ``bawaslu-webhook``, a case that goes to its end (report,
  registration, verification, referral) and a report it rejects, a unique canary in every
  personal-data field (the NIP a unique 18-digit number, as the connector checks NIPs);
- the inspectorate office drops a batch through ``inspektorat-filedrop``: a report with
  canaries and a malformed row with canaries (dead-lettered by the connector);
- BKN's staff, in the authority's database read by ``authority-outbox``, ask the PPK a
  clarification and close the case, canaries in the questions and the remarks; the PPK's
  registry signs the decree (``ppk-decrees``); ``authority-status``, ``bawaslu-callback`` and
  ``siasn`` deliver the feeds;
- a verification of a case Bawaslu never reported is refused by the hub (illegal transition),
  replayed with ``kawal dlq replay`` and refused again; the connector's dead letter is
  reported not replayable.

Then no canary is in clear (or hex-encoded) in any record of any topic, in any file under
``KAWAL_HOME`` (broker storage, the webhook's spool with every post still in it, checkpoints, feed
chains, kept heads, vault, logs of the hub and of the connectors), in a ``pg_dump`` of the live
store, in ``/metrics`` or ``/health``, or in any HTTP read beyond the reader's share; every
institution's trail shows exactly the canaries the policy grants it; the recipients' systems
hold exactly what the policy grants them of the entries routed to them (BKN's database through
``authority-status``, Bawaslu's callback API through ``bawaslu-callback``), and SIASN only the
subjects' NIPs (``siasn``).

Event types no reference connector sends (appeals, objections, clarifications received), and
personnel data blocks, which ``siasn-blocks`` sends only after a follow-up breach this drive
has none of, are covered by :mod:`tests.hub.test_canaries`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connectors.authority.database import HUB_CASE_EVENTS
from schemas.catalog import default_catalog
from streams.domain.authority import load_authority_map
from streams.domain.disclosure_policy import load_disclosure_policy
from streams.domain.institutions import load_institutions
from streams.domain.parties import case_roles, parties_of_report
from streams.local.embedded import EmbeddedBroker
from streams.local.processes import free_port
from streams.local.storage import EmbeddedStorage, free_storage_base_port
from streams.topics import DLQ
from tests.canaries import BrokerRecord, Canary, every_record, files_holding, found_in
from tests.connector_drive import (
    BAWASLU,
    INSPECTORATE,
    Drive,
    Planted,
    Systems,
    drive_through,
    named,
)
from tests.hubtools import RunningHub, http_get, start_hub
from tests.postgres import PostgresServer

pytestmark = pytest.mark.slow

CATALOG = default_catalog()
POLICY = load_disclosure_policy(None, CATALOG)
INSTITUTIONS = {institution.id: institution for institution in load_institutions()}
AUTHORITY_MAP = load_authority_map()
#: Files under KAWAL_HOME the scan must have found, so that it means something.
HOME_FILES = {
    "vault.db",
    "worker.log",
    "sink.log",
    "checkpoints.db",
    "intake.db",
    "spool.key",
    "kawal.log",
}


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer
) -> Iterator[tuple[RunningHub, str, Path, str]]:
    """A hub whose broker stores under KAWAL_HOME and whose audit store is PostgreSQL."""
    root = tmp_path_factory.mktemp("connector-canaries")
    home = root / "home"
    home.mkdir(mode=0o700)
    storage = EmbeddedStorage(
        home / "broker-storage", home / "logs", base_port=free_storage_base_port()
    )
    storage.start()
    try:
        broker = EmbeddedBroker.durable(storage, home / "broker", port=free_port())
        broker.start()
        try:
            database = f"kawal_connector_canaries_{uuid.uuid4().hex[:8]}"
            url = postgres.create_database(database)
            hub = start_hub(broker.url, home, audit_db_url=url)
            try:
                yield hub, broker.url, root, database
            finally:
                hub.stop()
        finally:
            broker.stop()
    finally:
        storage.stop()


@pytest.fixture(scope="module")
def drove(live: tuple[RunningHub, str, Path, str], postgres: PostgresServer) -> Drive:
    """Everything sent through the connectors, refused, replayed and delivered."""
    hub, broker_url, root, database = live
    systems = Systems(root / "systems", hub.home)
    log = logging.FileHandler(hub.home / "kawal.log")  # the connectors' log, as `kawal up` keeps
    log.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(log)
    previous = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    drive = Drive(hub, broker_url, systems, Planted())
    try:
        systems.run(hub.bootstrap, hub.home)
        drive_through(drive)
    finally:
        systems.halt()
        logging.getLogger().removeHandler(log)
        logging.getLogger().setLevel(previous)
        log.close()
    drive.dump = postgres.dump(database)
    return drive


def granted(roles: frozenset[str], canary: Canary) -> bool:
    """Whether any of ``roles`` may see the field ``canary`` was planted in."""
    return any(POLICY.may_see(role, canary.event_type, canary.field) for role in roles)


def roles_of(reader: str, case_id: str, drive: Drive) -> frozenset[str] | None:
    """The roles of ``reader`` in the case; None: it is not a party."""
    parties = parties_of_report(AUTHORITY_MAP, drive.reports[case_id])
    return case_roles(INSTITUTIONS[reader], parties)


def entitled(drive: Drive, reader: str, case_id: str) -> set[str] | None:
    """The canaries of the case ``reader`` may see in its trail; None: it is not a party."""
    roles = roles_of(reader, case_id, drive)
    if roles is None:
        return None
    canaries = drive.planted.canaries
    return {c.value for c in canaries if c.case_id == case_id and granted(roles, c)}


@pytest.fixture(scope="module")
def topics(drove: Drive) -> list[BrokerRecord]:
    """Every record of every topic of the module's broker."""
    return every_record(drove.hub.bootstrap)


def test_the_connectors_carried_a_canary_in_every_field_they_send(drove: Drive) -> None:
    planted = {(c.event_type, c.field) for c in drove.planted.canaries}
    reported = {("ReportReceived", name) for name in CATALOG.personal_data_fields("ReportReceived")}
    # Only the public reporting portal sends evidence keys: the direct battery plants them.
    reported -= {("ReportReceived", "evidence_keys")}
    assert planted == reported | {
        ("ReportRejected", "explanation"),
        ("VerificationCompleted", "findings"),
        ("ClarificationRequested", "questions"),
        ("CaseClosed", "remarks"),
    }
    by_source = {drive_source for drive_source in (BAWASLU, INSPECTORATE)}
    sources = {report["envelope"]["source"] for report in drove.reports.values()}
    assert sources == by_source
    assert len({c.value for c in drove.planted.every}) == len(drove.planted.every)


def test_dlq_replay_resends_the_refused_event_and_not_the_connector_letter(drove: Drive) -> None:
    ingress, connector = drove.replays
    assert ingress.startswith("replayed 1, already replayed 0, not replayable 0"), ingress
    summary, *refusals = connector.splitlines()
    assert summary == "replayed 0, already replayed 0, not replayable 1, permanent 0", connector
    assert "system of connector inspektorat-filedrop" in refusals[0], connector
    hits = found_in(ingress.encode() + connector.encode(), drove.planted.every)
    assert named(hits, drove.planted) == set()


def test_no_record_of_any_topic_holds_a_canary(drove: Drive, topics: list[BrokerRecord]) -> None:
    hits = {record.where: found_in(record.raw, drove.planted.every) for record in topics}
    assert {where: named(found, drove.planted) for where, found in hits.items() if found} == {}
    letters = [record for record in topics if record.topic == DLQ]
    assert len(letters) >= 3


def test_no_file_under_the_hub_home_holds_a_canary(drove: Drive) -> None:
    home = drove.hub.home
    present = {path.name for path in home.rglob("*")}
    assert present >= HOME_FILES
    stored = b"".join(
        path.read_bytes() for path in (home / "broker-storage").rglob("*") if path.is_file()
    )
    # The broker's storage keeps record bytes as they are: the case ids are there to be found.
    assert all(case_id.encode() in stored for case_id in drove.reports)
    assert (home / "kawal.log").stat().st_size > 0
    found = files_holding(home, drove.planted.every)
    assert {path: named(values, drove.planted) for path, values in found.items()} == {}


def test_the_webhook_spool_keeps_every_bawaslu_post_sealed(drove: Drive) -> None:
    # Within its retention the spool still holds each post Bawaslu sent, sealed: the scan of
    # every file above finds none of their canaries all the same.
    spool = Path(drove.systems.configs["bawaslu-webhook"]["spool_dir"]) / "intake.db"
    with sqlite3.connect(spool) as db:
        kept = db.execute(
            "SELECT COUNT(*) FROM posts WHERE sealed IS NOT NULL AND body IS NULL"
        ).fetchone()[0]
    sent = {value for value, sender in drove.planted.senders.items() if sender == BAWASLU}
    assert kept >= 7, kept  # a referred case (4 posts), a rejected report (2), a refusal (1)
    assert found_in(spool.read_bytes(), drove.planted.every) == set()
    assert sent, "Bawaslu's posts carried canaries"


def test_the_live_postgresql_store_holds_no_canary(drove: Drive) -> None:
    assert all(case_id.encode() in drove.dump for case_id in drove.reports)
    assert named(found_in(drove.dump, drove.planted.every), drove.planted) == set()


def test_metrics_and_health_hold_no_canary(drove: Drive) -> None:
    hub = drove.hub
    urls = [
        f"{base}/{page}" for base in (hub.base_url, hub.sink_url) for page in ("metrics", "health")
    ]
    bodies = {url: http_get(url)[1] for url in urls}
    hits = {
        url: named(found_in(body, drove.planted.every), drove.planted)
        for url, body in bodies.items()
    }
    assert {url: found for url, found in hits.items() if found} == {}


def test_each_institution_reads_exactly_its_share_over_http(drove: Drive) -> None:
    hub = drove.hub
    readers = {name: hub.token(name).secret for name in INSTITUTIONS if name != "kawal"}
    wrong: dict[tuple[str, str], Any] = {}
    shown: set[str] = set()
    for reader, token in readers.items():
        for case_id in drove.reports:
            status, body = http_get(f"{hub.base_url}/cases/{case_id}/trail", token)
            seen = found_in(body, drove.planted.every)
            shown |= seen
            expected = entitled(drove, reader, case_id)
            if (status, seen) != (403 if expected is None else 200, expected or set()):
                wrong[reader, case_id] = (status, named(seen ^ (expected or set()), drove.planted))
            page = http_get(f"{hub.base_url}/cases/{case_id}", token)[1]
            if found_in(page, drove.planted.every):
                wrong[reader, f"/cases/{case_id}"] = named(
                    found_in(page, drove.planted.every), drove.planted
                )
    public = [http_get(f"{hub.base_url}/cases/{case_id}/trail")[1] for case_id in drove.reports]
    assert not any(found_in(body, drove.planted.every) for body in public)
    assert wrong == {}
    assert shown == {c.value for c in drove.planted.canaries}


def granted_entries(
    drive: Drive, institution: str, held: dict[tuple[str, str], set[str]]
) -> dict[tuple[str, str], set[str]]:
    """For each (case, event type) a system of ``institution`` holds: what the policy grants."""
    expected = {}
    for case_id, event_type in held:
        roles = roles_of(institution, case_id, drive) or frozenset()
        expected[case_id, event_type] = {
            c.value
            for c in drive.planted.canaries
            if (c.case_id, c.event_type) == (case_id, event_type) and granted(roles, c)
        }
    return expected


def test_bkn_database_holds_exactly_what_the_policy_grants_bkn(drove: Drive) -> None:
    with drove.systems.authority.engine.connect() as connection:
        rows = connection.execute(
            select(
                HUB_CASE_EVENTS.c.case_id,
                HUB_CASE_EVENTS.c.event_type,
                HUB_CASE_EVENTS.c.event_json,
            )
        ).all()
    held = {
        (row.case_id, row.event_type): found_in(row.event_json.encode(), drove.planted.every)
        for row in rows
    }
    assert held == granted_entries(drove, "bkn", held)
    assert any(held.values()), "BKN was granted some canary"


def test_bawaslu_system_gets_exactly_what_the_policy_grants_bawaslu(drove: Drive) -> None:
    updates = drove.systems.bawaslu.updates.values()
    held = {
        (update["case_id"], update["event_type"]): found_in(
            json.dumps(update, default=str).encode(), drove.planted.every
        )
        for update in updates
    }
    assert held == granted_entries(drove, BAWASLU, held)
    assert any(held.values()), "Bawaslu was granted some canary"


def test_siasn_holds_only_the_nips_the_personnel_agency_needs(drove: Drive) -> None:
    siasn = drove.systems.siasn
    state = json.dumps([siasn.cases, siasn.sanctions, siasn.blocks], default=str).encode()
    held = found_in(state, drove.planted.every)
    assert named(held, drove.planted) == {"ReportReceived.subject_nip"}
    may = {
        c.value
        for c in drove.planted.canaries
        if granted(roles_of("bkn", c.case_id, drove) or frozenset(), c)
    }
    assert held <= may
