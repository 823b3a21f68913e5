"""Canaries sent by the institutions' simulated systems through the reference connectors.

The systems and connectors of ``kawal up --demo`` (:mod:`connectors.demo`), with their staff
driven step by step instead of by the demo's timers and their faults off, so that a test
places a unique canary in every personal-data field each connector sends and knows when each
step is through the hub. Used by :mod:`tests.hub.test_canaries_connectors`.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select

from connectors.authority.database import HUB_CASE_EVENTS
from connectors.authority.simulator import AuthoritySystem
from connectors.demo import DemoSystems
from connectors.host import build, run_connector
from schemas.identity import case_id_for
from streams.topics import DLQ
from tests.canaries import Canary
from tests.hubtools import RunningHub
from tests.in_process import kawal_here

BAWASLU, INSPECTORATE, PPK = "bawaslu.33", "inspektorat.3374", "ppk.3374"
#: Longest wait for one hop through a connector and the hub, in seconds (a loaded machine).
WAIT_SECONDS = 90.0
#: The sanction BKN recommends and the PPK imposes.
SANCTION = ("MEDIUM", "ALLOWANCE_CUT_25_6_MONTHS")


@dataclass
class Planted:
    """The canaries sent, each with where it was planted."""

    canaries: list[Canary] = field(default_factory=list)
    #: Canaries of records refused (by a connector or the hub): nobody may read them.
    refused: list[Canary] = field(default_factory=list)
    #: The institution whose system sent each canary, by value.
    senders: dict[str, str] = field(default_factory=dict)

    def value(self, by: str, case_id: str, event_type: str, name: str, *, nip: bool = False) -> str:
        """A new canary ``by`` an institution, of ``event_type``'s field ``name`` in a case."""
        # A NIP is checked for its 18 digits: a random one, unique like any canary.
        unique = uuid.uuid4()
        value = f"{unique.int % 10**18:018d}" if nip else f"canary-{name}-{event_type}-{unique.hex}"
        self.canaries.append(Canary(case_id, "", event_type, name, value))
        self.senders[value] = by
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


class Systems:
    """The demo's simulated systems, scripted, and their connectors running against the hub.

    What the connectors keep (the webhook's spool, the key of inspectorate pseudonyms) goes
    under ``home``, as an operator keeps it under ``KAWAL_HOME``; the webhook's spool keeps its
    posts, sealed, for its default retention (beyond the test's run).
    """

    def __init__(self, root: Path, home: Path) -> None:
        self.demo = DemoSystems(root, scripted=True)
        self.bawaslu, self.office = self.demo.bawaslu, self.demo.office
        self.authority, self.registry, self.siasn = (
            self.demo.authority,
            self.demo.registry,
            self.demo.siasn,
        )
        kept = home / "connectors"
        self.configs = {name: dict(config) for name, config in self.demo.configs.items()}
        self.configs["bawaslu-webhook"]["spool_dir"] = str(kept / "bawaslu-spool")
        self.configs["inspektorat-filedrop"]["pseudonym_key_file"] = str(
            kept / "inspektorat-pseudonyms.key"
        )
        for config in self.configs.values():
            config["poll_seconds"] = 0.5  # each hop sooner than the demo's pace
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

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
        self.demo.stop()


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

    def events_of(self, case_id: str) -> list[str]:
        """Event types of the case's trail in the live store."""
        return [row.event_type for row in self.hub.store.trail(case_id)]

    def has(self, case_id: str, event_type: str) -> bool:
        """Whether the case's trail holds an event of ``event_type``."""
        return event_type in self.events_of(case_id)

    def kawal(self, *args: str, exit_code: int = 0) -> str:
        """``kawal ARGS`` on the hub, which must exit with ``exit_code``; its output."""
        env = {"KAWAL_HOME": str(self.hub.home), "KAWAL_BROKER_URL": self.broker_url}
        done = kawal_here(env, *args)
        assert done.returncode == exit_code, done.stdout + done.stderr
        return done.stdout + done.stderr


def report_post(drive: Drive, number: str) -> dict[str, Any]:
    """Bawaslu's report of case ``number``, a canary in each personal-data field."""
    case_id = case_id_for(BAWASLU, number)
    plant = partial(drive.planted.value, BAWASLU)
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
    findings = drive.planted.value(BAWASLU, case_id, "VerificationCompleted", "findings")
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
        "explanation": drive.planted.value(BAWASLU, case_id, "ReportRejected", "explanation"),
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
        plant = partial(drive.planted.value, INSPECTORATE)
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
    findings = drive.planted.value(BAWASLU, case_id, "VerificationCompleted", "findings")
    drive.planted.refuse(findings)
    bawaslu.send(bawaslu.verification(number, findings=findings))
    wait(lambda: letters(drive, 2), "the hub's and the connector's dead letters")
    drive.replays.append(drive.kawal("dlq", "replay", "--stage", "ingress"))
    wait(lambda: letters(drive, 3), "the replayed record refused again")
    # The connector's letter is not replayable, and it is all the filter selects: exit 1.
    drive.replays.append(drive.kawal("dlq", "replay", "--stage", "connector", exit_code=1))


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
    questions = drive.planted.value("bkn", case_id, "ClarificationRequested", "questions")
    authority.request_clarification(case, questions=questions)
    wait(lambda: drive.has(case_id, "ClarificationRequested"), "the clarification request")
    level, kind = SANCTION
    authority.issue_recommendation(case, level=level, kind=kind)
    wait(lambda: drive.has(case_id, "RecommendationIssued"), "the recommendation")
    registry.issue(BAWASLU, number, level=level, kind=kind)
    wait(lambda: drive.has(case_id, "SanctionImposed"), "the PPK's decree")
    remarks = drive.planted.value("bkn", case_id, "CaseClosed", "remarks")
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
    """Wait until BKN's database holds every entry of its feed (the closing last), and
    Bawaslu's system entries of Bawaslu's case, and SIASN that case.

    Each system's connector joins its consumer group on its own: on tansu one join was seen
    to take longer than the whole drive, so Bawaslu's system and SIASN are waited for too, not
    taken to be as quick as BKN's (a loaded CI run once ended the drive before SIASN had it).
    """
    case_id = next(iter(drive.reports))
    query = select(HUB_CASE_EVENTS.c.event_id).where(
        HUB_CASE_EVENTS.c.case_id == case_id, HUB_CASE_EVENTS.c.event_type == "CaseClosed"
    )

    def closed() -> bool:
        with drive.systems.authority.engine.connect() as connection:
            return connection.execute(query).first() is not None

    wait(closed, "the closing in BKN's database")
    wait(
        lambda: bool(drive.systems.bawaslu.updates_of(case_id)),
        "an entry of Bawaslu's case in Bawaslu's system",
    )
    wait(lambda: case_id in drive.systems.siasn.cases, "Bawaslu's case in SIASN")


def drive_through(drive: Drive) -> None:
    """Every step, in the order the hub accepts them; the connectors must be running."""
    bawaslu_case(drive)
    rejected_report(drive)
    inspectorate_batch(drive)
    refused_and_replayed(drive)
    authority_steps(drive)
    delivered(drive)
