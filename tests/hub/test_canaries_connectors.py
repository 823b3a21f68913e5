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
``KAWAL_HOME`` (broker storage, the webhook's spool once its retention ran, checkpoints, feed
chains, kept heads, vault, logs of the hub and of the connectors), in a ``pg_dump`` of the live
store, in ``/metrics`` or ``/health``, or in any HTTP read beyond the reader's share; every
institution's trail shows exactly the canaries the policy grants it; BKN's database holds
exactly those the policy grants BKN of the entries routed to it.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connectors.authority.database import HUB_CASE_EVENTS
from connectors.authority.simulator import AuthoritySystem
from connectors.bawaslu.simulator import WEBHOOK_PATH, BawasluSystem
from connectors.host import build, run_connector
from connectors.inspektorat.simulator import InspectorateOffice
from connectors.ppk.simulator import DecreeRegistry
from connectors.siasn.simulator import SiasnApi
from schemas.catalog import default_catalog
from schemas.identity import case_id_for
from streams.domain.authority import load_authority_map
from streams.domain.disclosure_policy import load_disclosure_policy
from streams.domain.institutions import load_institutions
from streams.domain.parties import case_roles, parties_of_report
from streams.local.embedded import EmbeddedBroker
from streams.local.processes import free_port
from streams.local.storage import EmbeddedStorage, free_storage_base_port
from streams.topics import DLQ
from tests.canaries import BrokerRecord, Canary, every_record, files_holding, found_in
from tests.hubtools import RunningHub, http_get, start_hub
from tests.postgres import PostgresServer

pytestmark = pytest.mark.slow

CATALOG = default_catalog()
POLICY = load_disclosure_policy(None, CATALOG)
INSTITUTIONS = {institution.id: institution for institution in load_institutions()}
AUTHORITY_MAP = load_authority_map()
BAWASLU, INSPECTORATE, PPK = "bawaslu.33", "inspektorat.3374", "ppk.3374"
#: Longest wait for one hop through a connector and the hub, in seconds (a loaded machine).
WAIT_SECONDS = 90.0
#: The sanction BKN recommends and the PPK imposes.
SANCTION = ("MEDIUM", "ALLOWANCE_CUT_25_6_MONTHS")
#: Files under KAWAL_HOME the scan must have found, so that it means something.
HOME_FILES = {"vault.db", "worker.log", "sink.log", "checkpoints.db", "intake.db", "kawal.log"}


@dataclass
class Planted:
    """The canaries sent, each with where it was planted."""

    canaries: list[Canary] = field(default_factory=list)
    #: Canaries of records refused (by a connector or the hub): nobody may read them.
    refused: list[Canary] = field(default_factory=list)

    def value(self, case_id: str, event_type: str, name: str, *, nip: bool = False) -> str:
        """A new canary of ``event_type``'s field ``name`` in case ``case_id``."""
        value = (
            str(uuid.uuid4().int)[:18].rjust(18, "1")
            if nip
            else (f"canary-{name}-{event_type}-{uuid.uuid4().hex}")
        )
        self.canaries.append(Canary(case_id, "", event_type, name, value))
        return value

    def refuse(self, value: str) -> None:
        """Move the canary ``value`` to those of refused records."""
        found = next(c for c in self.canaries if c.value == value)
        self.canaries.remove(found)
        self.refused.append(found)

    @property
    def every(self) -> list[Canary]:
        """Every canary sent."""
        return self.canaries + self.refused


def named(values: set[str], planted: Planted) -> set[str]:
    """``EventType.field`` of each canary value (NIP canaries are digits only)."""
    by_value = {c.value: f"{c.event_type}.{c.field}" for c in planted.every}
    return {by_value[value] for value in values}


@dataclass
class Systems:
    """The institutions' simulated systems, and their connectors running against the hub."""

    bawaslu: BawasluSystem
    office: InspectorateOffice
    authority: AuthoritySystem
    registry: DecreeRegistry
    siasn: SiasnApi
    configs: dict[str, dict[str, Any]]
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def run(self, bootstrap: list[str], home: Path) -> None:
        """Start every connector in a thread of its own, as ``kawal up --demo`` does."""
        for name, config in self.configs.items():
            thread = threading.Thread(
                target=run_connector,
                args=(build(name, config), bootstrap, home, self.stop),
                name=f"connector-{name}",
                daemon=True,
            )
            thread.start()
            self.threads.append(thread)

    def halt(self) -> None:
        """Stop the connectors, then the systems."""
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=20)
        for stop in (self.bawaslu.stop, self.office.stop, self.authority.stop):
            stop()
        self.registry.stop()
        self.siasn.stop()


def systems_under(root: Path, home: Path) -> Systems:
    """The simulators under ``root`` (the institutions' side) and each connector's config.

    What the connectors keep (the webhook's spool, the key of inspectorate pseudonyms) is
    under ``home``, as an operator keeps it under ``KAWAL_HOME``.
    """
    port = free_port()
    bawaslu = BawasluSystem(
        f"http://127.0.0.1:{port}{WEBHOOK_PATH}", uuid.uuid4().hex * 2, uuid.uuid4().hex
    ).start()
    office = InspectorateOffice(root / INSPECTORATE, seed=3374)
    authority = AuthoritySystem.on_sqlite(root / "authority", authority="bkn", seed=2024)
    registry = DecreeRegistry.on_sqlite(root / PPK, seed=3374)
    siasn = SiasnApi(uuid.uuid4().hex).start()
    kept = home / "connectors"
    configs: dict[str, dict[str, Any]] = {
        "bawaslu-webhook": {
            "institution": BAWASLU,
            "listen_port": port,
            "spool_dir": str(kept / "bawaslu-spool"),
            "secret": bawaslu.secret,
            "retention_days": 0,
        },
        "bawaslu-callback": {
            "institution": BAWASLU,
            "callback_url": bawaslu.callback_url,
            "token": bawaslu.token,
        },
        "inspektorat-filedrop": {
            "institution": INSPECTORATE,
            "drop_dir": str(office.share),
            "pseudonym_key_file": str(kept / "inspektorat-pseudonyms.key"),
            "poll_seconds": 0.5,
        },
        "authority-outbox": {"institution": "bkn", "database_url": authority.url},
        "authority-status": {"institution": "bkn", "database_url": authority.url},
        "ppk-decrees": {"institution": PPK, "database_url": registry.url},
        "siasn": {"institution": "bkn", "base_url": siasn.base_url, "token": siasn.token},
    }
    for config in configs.values():
        config.setdefault("poll_seconds", 0.5)
    return Systems(bawaslu, office, authority, registry, siasn, configs)


def wait(condition: Callable[[], bool], what: str) -> None:
    """Wait until ``condition()`` holds; fail naming ``what`` after :data:`WAIT_SECONDS`."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"{what} not within {WAIT_SECONDS} s"
        time.sleep(0.3)


@dataclass
class Drive:
    """The hub, the systems and what went through them."""

    hub: RunningHub
    broker_url: str
    systems: Systems
    planted: Planted
    #: Each accepted case, by id: the parties its report named (for the policy).
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: What ``kawal dlq replay`` printed.
    replays: list[str] = field(default_factory=list)
    #: The pg_dump of the live audit store, once everything is in.
    dump: bytes = b""
    #: Files under KAWAL_HOME holding canaries before the webhook's spool retention ran.
    before_retention: dict[str, set[str]] = field(default_factory=dict)

    def events_of(self, case_id: str) -> list[str]:
        """Event types of the case's trail in the live store."""
        return [row.event_type for row in self.hub.store.trail(case_id)]

    def has(self, case_id: str, event_type: str) -> bool:
        """Whether the case's trail holds an event of ``event_type``."""
        return event_type in self.events_of(case_id)

    def kawal(self, *args: str) -> str:
        """``kawal ARGS`` on the hub; its output."""
        env = dict(os.environ) | {
            "KAWAL_HOME": str(self.hub.home),
            "KAWAL_BROKER_URL": self.broker_url,
        }
        done = subprocess.run(
            [sys.executable, "-m", "streams.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr


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
    systems = systems_under(root / "systems", hub.home)
    log = logging.FileHandler(hub.home / "kawal.log")  # the connectors' log, as `kawal up` keeps
    log.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(log)
    previous = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    drive = Drive(hub, broker_url, systems, Planted())
    try:
        systems.run(hub.bootstrap, hub.home)
        bawaslu_case(drive)
        rejected_report(drive)
        inspectorate_batch(drive)
        refused_and_replayed(drive)
        authority_steps(drive)
        delivered(drive)
    finally:
        systems.halt()
        logging.getLogger().removeHandler(log)
        logging.getLogger().setLevel(previous)
        log.close()
    drive.before_retention = files_holding(hub.home, drive.planted.every)
    expire_spool(drive)
    drive.dump = postgres.dump(database)
    return drive


def report_post(drive: Drive, number: str) -> dict[str, Any]:
    """Bawaslu's report of case ``number``, a canary in each personal-data field."""
    case_id = case_id_for(BAWASLU, number)
    plant = drive.planted.value
    return drive.systems.bawaslu.report(
        case_number=number,
        summary=plant(case_id, "ReportReceived", "summary"),
        subject={
            "nip": plant(case_id, "ReportReceived", "subject_nip", nip=True),
            "name": plant(case_id, "ReportReceived", "subject_name"),
        },
        reporter={
            "ref": uuid.uuid4().hex[:10],
            "identity": plant(case_id, "ReportReceived", "reporter_identity"),
        },
    )


def accepted_report(drive: Drive, case_id: str, source: str) -> None:
    """Remember the case's parties, as its report names them."""
    drive.reports[case_id] = {
        "envelope": {"event_time": datetime.now(UTC), "source": source},
        "employing_agency": PPK,
        "region_code": "3374",
    }


def bawaslu_case(drive: Drive) -> None:
    """A case Bawaslu reports, registers, verifies and refers, through the webhook."""
    bawaslu = drive.systems.bawaslu
    number = f"{uuid.uuid4().hex[:6]}/LP/PB/Prov/14.00/2024"
    case_id = case_id_for(BAWASLU, number)
    findings = drive.planted.value(case_id, "VerificationCompleted", "findings")
    for post in (
        report_post(drive, number),
        bawaslu.registration(number),
        bawaslu.verification(number, findings=findings),
        bawaslu.referral(number),
    ):
        bawaslu.send(post)
    accepted_report(drive, case_id, BAWASLU)
    wait(lambda: drive.has(case_id, "ReferralForwarded"), "Bawaslu's case referred")


def rejected_report(drive: Drive) -> None:
    """A report Bawaslu does not register, with its explanation."""
    bawaslu = drive.systems.bawaslu
    number = f"{uuid.uuid4().hex[:6]}/LP/PB/Prov/14.00/2024"
    case_id = case_id_for(BAWASLU, number)
    now = datetime.now(UTC)
    rejection = {
        "id": f"REJ-{uuid.uuid4().hex[:12]}",
        "type": "rejection",
        "case_number": number,
        "occurred_at": now.isoformat(),
        "reason": "FILED_TOO_LATE",
        "explanation": drive.planted.value(case_id, "ReportRejected", "explanation"),
        "rejected_on": now.date().isoformat(),
    }
    for post in (report_post(drive, number), rejection):
        bawaslu.send(post)
    accepted_report(drive, case_id, BAWASLU)
    wait(lambda: drive.has(case_id, "ReportRejected"), "the rejected report")


def inspectorate_batch(drive: Drive) -> None:
    """A report of the inspectorate, and a malformed row its connector dead-letters."""
    office = drive.systems.office
    numbers = [f"{n:04d}/LP/ITDA-3374/{uuid.uuid4().hex[:4]}/2024" for n in (1, 2)]
    values: dict[int, dict[str, Any]] = {}
    for row, number in enumerate(numbers, start=1):
        case_id = case_id_for(INSPECTORATE, number)
        plant = drive.planted.value
        values[row] = {
            "case_number": number,
            "summary": plant(case_id, "ReportReceived", "summary"),
            "subject_nip": plant(case_id, "ReportReceived", "subject_nip", nip=True),
            "subject_name": plant(case_id, "ReportReceived", "subject_name"),
            "reporter_identity": plant(case_id, "ReportReceived", "reporter_identity"),
        }
    office.export_batch(2, fmt="json", malformed={2: "bad_date"}, values=values)
    for value in values[2].values():
        if value != numbers[1]:
            drive.planted.refuse(value)
    accepted = case_id_for(INSPECTORATE, numbers[0])
    accepted_report(drive, accepted, INSPECTORATE)
    wait(lambda: drive.has(accepted, "ReportReceived"), "the inspectorate's report")
    wait(lambda: bool(office.receipts()), "the inspectorate's receipt")


def refused_and_replayed(drive: Drive) -> None:
    """A verification of a case never reported: refused, replayed, refused again."""
    bawaslu = drive.systems.bawaslu
    number = f"{uuid.uuid4().hex[:6]}/LP/PB/Prov/14.00/2024"
    case_id = case_id_for(BAWASLU, number)
    findings = drive.planted.value(case_id, "VerificationCompleted", "findings")
    drive.planted.refuse(findings)
    bawaslu.send(bawaslu.verification(number, findings=findings))
    wait(lambda: letters(drive, 2), "the hub's and the connector's dead letters")
    drive.replays.append(drive.kawal("dlq", "replay", "--stage", "ingress"))
    wait(lambda: letters(drive, 3), "the replayed record refused again")
    drive.replays.append(drive.kawal("dlq", "replay", "--stage", "connector"))


def letters(drive: Drive, count: int) -> bool:
    """Whether kawal.dlq holds at least ``count`` dead letters."""
    return len(drive.hub.read(DLQ, lambda _letter: True, timeout=1.0, at_least=count)) >= count


def authority_steps(drive: Drive) -> None:
    """BKN registers the referral, asks a clarification, recommends; the PPK imposes; closed."""
    authority, registry = drive.systems.authority, drive.systems.registry
    case_id = next(iter(drive.reports))
    wait(lambda: referred_to(authority, case_id), "the referral in BKN's database")
    number = bawaslu_number(authority, case_id)
    case = authority.open_case(BAWASLU, number)
    questions = drive.planted.value(case_id, "ClarificationRequested", "questions")
    authority.request_clarification(case, questions=questions)
    wait(lambda: drive.has(case_id, "ClarificationRequested"), "the clarification request")
    level, kind = SANCTION
    authority.issue_recommendation(case, level=level, kind=kind)
    wait(lambda: drive.has(case_id, "RecommendationIssued"), "the recommendation")
    registry.issue(BAWASLU, number, level=level, kind=kind)
    wait(lambda: drive.has(case_id, "SanctionImposed"), "the PPK's decree")
    remarks = drive.planted.value(case_id, "CaseClosed", "remarks")
    authority.close_case(case, final_sanction=SANCTION, remarks=remarks)
    wait(lambda: drive.has(case_id, "CaseClosed"), "the closing")


def referred_to(authority: AuthoritySystem, case_id: str) -> bool:
    """Whether ``authority-status`` delivered the case's referral to BKN's database."""
    query = select(HUB_CASE_EVENTS.c.event_id).where(
        HUB_CASE_EVENTS.c.case_id == case_id,
        HUB_CASE_EVENTS.c.event_type == "ReferralForwarded",
    )
    with authority.engine.connect() as connection:
        return connection.execute(query).first() is not None


def bawaslu_number(authority: AuthoritySystem, case_id: str) -> str:
    """Bawaslu's number of the case, as BKN's database got it with the report."""
    query = select(HUB_CASE_EVENTS.c.event_json).where(
        HUB_CASE_EVENTS.c.case_id == case_id, HUB_CASE_EVENTS.c.event_type == "ReportReceived"
    )
    with authority.engine.connect() as connection:
        return str(json.loads(connection.execute(query).scalar_one())["case_number"])


def delivered(drive: Drive) -> None:
    """Wait until BKN's database holds every entry of its feed (the closing last)."""
    case_id = next(iter(drive.reports))
    query = select(HUB_CASE_EVENTS.c.event_id).where(
        HUB_CASE_EVENTS.c.case_id == case_id, HUB_CASE_EVENTS.c.event_type == "CaseClosed"
    )

    def closed() -> bool:
        with drive.systems.authority.engine.connect() as connection:
            return connection.execute(query).first() is not None

    wait(closed, "the closing in BKN's database")


def expire_spool(drive: Drive) -> None:
    """Let the webhook's spool erase what the hub holds (retention 0 days), as its timer does."""
    connector = build("bawaslu-webhook", drive.systems.configs["bawaslu-webhook"])
    try:
        connector.expire(datetime.now(UTC) + timedelta(seconds=1))
    finally:
        connector.close()


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
    assert summary == "replayed 0, already replayed 0, not replayable 1", connector
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


def test_the_webhook_spool_held_bawaslu_posts_only_until_its_retention(drove: Drive) -> None:
    # The scan sees what a file holds: before the retention ran, Bawaslu's posts were in the
    # spool (the sender's side, kept until the hub has them and retention_days passed).
    spooled = {path for path in drove.before_retention if "bawaslu-spool" in path}
    assert spooled, drove.before_retention.keys()
    bawaslu = {c.value for c in drove.planted.every if c.case_id in bawaslu_cases(drove)}
    assert set().union(*(drove.before_retention[path] for path in spooled)) <= bawaslu
    others = {path for path in drove.before_retention if path not in spooled}
    assert others == set()


def bawaslu_cases(drive: Drive) -> set[str]:
    """Ids of the cases Bawaslu's system posted (refused ones too)."""
    return {c.case_id for c in drive.planted.every if c.event_type != "ReportReceived"} | {
        case_id
        for case_id, report in drive.reports.items()
        if report["envelope"]["source"] == BAWASLU
    }


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
    expected = {}
    for case_id, event_type in held:
        roles = roles_of("bkn", case_id, drove) or frozenset()
        expected[case_id, event_type] = {
            c.value
            for c in drove.planted.canaries
            if (c.case_id, c.event_type) == (case_id, event_type) and granted(roles, c)
        }
    assert held == expected
    assert any(held.values()), "BKN was granted some canary"
