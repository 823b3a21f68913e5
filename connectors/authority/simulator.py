"""A stand-in for the recommending authority's case-management system (KASN's, later BKN's).

Its staff register referred cases, request clarifications, issue recommendations and close
cases; each action writes its business row and its ``outbox`` row in one transaction, as the
real system does. The database misbehaves as real ones do: it can be taken offline (the SQLite
file moved away, or PostgreSQL refusing connections), an outbox row can be corrupted (a botched
data fix), an outbox id can be lost to a rolled-back transaction (a gap), and a long staff
transaction can hold the write lock. Everything it invents (case numbers, clarification ids)
comes from a seeded generator, so a test sees the same data on every run; what its staff decide
on a case (proven or not, the sanction) comes from a hash of the case's id
(:mod:`connectors.demo_pace`), so a case gets the same decision whichever round, thread or
run sees it first.

For the demo, :meth:`AuthoritySystem.start` runs simulated staff in a thread: they register the
cases referred through ``hub_case_events`` (written by the ``authority-status`` connector),
recommend on them, and close them once the PPK's sanction arrives.
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    func,
    select,
    text,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import CursorResult, make_url

from connectors.authority.database import CASE_STATUS, HUB_CASE_EVENTS, METADATA, OUTBOX
from connectors.demo_pace import authority_proven, authority_sanction, authority_wait
from connectors.simulation import SimulatedStaff, database_offline
from connectors.sql import open_engine, row_dict
from schemas.identity import case_id_for
from streams.domain.sanctions import KIND_LEVEL
from streams.sql_time import as_utc

#: The authority's own tables (the connector never reads them).
BUSINESS = MetaData()

CASES = Table(
    "cases",
    BUSINESS,
    Column("id", Integer, primary_key=True),
    Column("register_number", String(64), nullable=False, unique=True),
    Column("reported_by", String(64), nullable=False),
    Column("case_number", String(128), nullable=False),
    Column("hub_case_id", String(36), nullable=False, unique=True),
    Column("violation", String(64), nullable=False),
    Column("status", String(32), nullable=False),  # REGISTERED, RECOMMENDED, ..., CLOSED
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

RECOMMENDATIONS = Table(
    "recommendations",
    BUSINESS,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("letter_number", String(64), nullable=False, unique=True),
    Column("proven", Boolean, nullable=False),
    Column("violation", String(64), nullable=False),
    Column("sanction_level", String(32)),
    Column("sanction_kind", String(64)),
    Column("follow_up_days", Integer, nullable=False),
    Column("issued_by", String(64), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
)

CLARIFICATIONS = Table(
    "clarifications",
    BUSINESS,
    Column("id", Integer, primary_key=True),
    Column("clarification_id", String(36), nullable=False, unique=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("letter_number", String(64), nullable=False),
    Column("requested_from", String(32), nullable=False),
    Column("addressee", String(64), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("questions", Text, nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
)

CLOSURES = Table(
    "closures",
    BUSINESS,
    Column("case_id", ForeignKey("cases.id"), primary_key=True),
    Column("closing_reason", String(32), nullable=False),
    Column("closed_on", Date, nullable=False),
    Column("sanction_level", String(32)),
    Column("sanction_kind", String(64)),
    Column("remarks", Text),
    Column("closed_by", String(64), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=False),
)

#: Kinds a proven discipline violation is recommended with (medium to heavy, 2022 joint decree).
DISCIPLINE_KINDS = tuple(kind for kind, level in KIND_LEVEL.items() if level in ("MEDIUM", "HEAVY"))
ETHICS_KINDS = ("MORAL_CLOSED_STATEMENT", "MORAL_OPEN_STATEMENT")


@dataclass(frozen=True)
class CaseFile:
    """A case in the authority's register."""

    id: int
    reported_by: str
    case_number: str
    register_number: str
    violation: str

    @property
    def hub_case_id(self) -> str:
        """The hub's id of the case."""
        return case_id_for(self.reported_by, self.case_number)


@dataclass(frozen=True)
class Letter:
    """A recommendation letter as the PPK receives it."""

    reported_by: str
    case_number: str
    letter_number: str
    violation: str
    sanction_level: str
    sanction_kind: str | None


class AuthoritySystem:
    """The authority's case-management database and its staff.

    Args:
        url: SQLAlchemy URL of an existing, empty or already set-up database.
        authority: ``kasn`` or ``bkn``: whose register this is (letter numbers).
        seed: seeds every invented value.
        clock: the system's clock (UTC); the real one by default.
        proven_share: share of referred cases the simulated staff find proven (which ones:
            :func:`connectors.demo_pace.authority_proven`).
        wait_of: seconds the staff take, from registering a case (hub case id), before they
            recommend on it (the demo's pace, :func:`connectors.demo_pace.authority_wait`);
            none: at their next round.
    """

    def __init__(
        self,
        url: str,
        *,
        authority: str = "bkn",
        seed: int = 0,
        clock: Callable[[], datetime] | None = None,
        proven_share: float = 0.85,
        wait_of: Callable[[str], float] | None = None,
    ) -> None:
        self.url = url
        self._wait_of = wait_of
        self.proven_share = proven_share
        self.authority = authority
        self._random = random.Random(seed)  # noqa: S311 - invented data, not secrets
        self._series = f"{self._random.getrandbits(32):08X}"  # case numbers of this system
        self._clock = clock or (lambda: datetime.now(UTC))
        self._letters: list[Callable[[Letter], None]] = []
        self._staff = SimulatedStaff("authority-staff", self.work_once, (sa_exc.SQLAlchemyError,))
        # Letter numbers come from a count of the letters issued: the authority's registry
        # numbers one letter at a time, so staff and callers never draw the same number.
        self._numbering = threading.Lock()
        setup = create_engine(url)
        if setup.dialect.name == "sqlite":
            with setup.connect() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")  # staff read while it writes
        BUSINESS.create_all(setup)
        METADATA.create_all(setup)
        setup.dispose()
        self.engine = open_engine(url, timeout_seconds=5.0)

    @classmethod
    def on_sqlite(cls, root: Path, **options: Any) -> AuthoritySystem:
        """A system whose database is the SQLite file ``root/authority.db``."""
        root.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{(root / 'authority.db').resolve()}", **options)

    # What its staff do --------------------------------------------------------------------

    def open_case(
        self,
        reported_by: str = "bawaslu.33",
        case_number: str | None = None,
        violation: str = "DISCIPLINE_PARTISAN_SUPPORT",
        status: str = "REGISTERED",
    ) -> CaseFile:
        """Register a referred case (no outbox row: the referral came from the hub).

        ``status`` other than ``REGISTERED``: a case the authority worked on before this
        system ran (the demo's history, :mod:`connectors.authority.demo_history`).
        """
        with self.engine.begin() as connection:
            sequence = (connection.scalar(select(func.count()).select_from(CASES)) or 0) + 1
            number = case_number or f"{sequence:03d}/LP/PB/33/{self._series}/2024"
            register = f"{sequence:04d}/{self.authority.upper()}/REG/2024"
            result = connection.execute(
                CASES.insert().values(
                    register_number=register,
                    reported_by=reported_by,
                    case_number=number,
                    hub_case_id=case_id_for(reported_by, number),
                    violation=violation,
                    status=status,
                    registered_at=self._now(),
                )
            )
        return CaseFile(_new_id(result), reported_by, number, register, violation)

    def issue_recommendation(
        self,
        case: CaseFile,
        *,
        proven: bool = True,
        level: str | None = None,
        kind: str | None = None,
        follow_up_days: int = 14,
        staff: str = "u-0007",
    ) -> int:
        """Issue a recommendation on ``case``; return its outbox row id.

        Unless given, the sanction fits the violation: a moral statement for an ethics breach,
        a medium or heavy discipline sanction otherwise (chosen by the seeded generator).
        """
        if proven and level is None:
            kind = kind or self._random.choice(
                ETHICS_KINDS if case.violation.startswith("ETHICS_") else DISCIPLINE_KINDS
            )
            level = KIND_LEVEL[kind]
        with self._numbering, self.engine.begin() as connection:
            letter = self._letter_number(connection, RECOMMENDATIONS, "REK")
            connection.execute(
                RECOMMENDATIONS.insert().values(
                    case_id=case.id,
                    letter_number=letter,
                    proven=proven,
                    violation=case.violation,
                    sanction_level=level,
                    sanction_kind=kind,
                    follow_up_days=follow_up_days,
                    issued_by=staff,
                    issued_at=self._now(),
                )
            )
            self._set_status(connection, case, "RECOMMENDED" if proven else "NOT_RECOMMENDED")
            payload = {
                "letter_number": letter,
                "proven": proven,
                "violation": case.violation,
                "sanction_level": level,
                "sanction_kind": kind,
                "follow_up_days": follow_up_days,
                "actor": staff,
            }
            row = self._outbox(connection, "recommendation.issued", case, payload)
        if proven and level is not None:
            self._send(
                Letter(case.reported_by, case.case_number, letter, case.violation, level, kind)
            )
        return row

    def request_clarification(
        self,
        case: CaseFile,
        *,
        requested_from: str = "PPK",
        addressee: str = "ppk.3374",
        questions: str = "Please explain the civil servant's presence at the campaign event.",
        staff: str = "u-0007",
    ) -> int:
        """Ask ``addressee`` to clarify the facts of ``case``; return the outbox row id."""
        clarification_id = str(uuid.UUID(int=self._random.getrandbits(128), version=4))
        due_on = self._now().date() + timedelta(days=7)
        with self._numbering, self.engine.begin() as connection:
            letter = self._letter_number(connection, CLARIFICATIONS, "KLAR")
            connection.execute(
                CLARIFICATIONS.insert().values(
                    clarification_id=clarification_id,
                    case_id=case.id,
                    letter_number=letter,
                    requested_from=requested_from,
                    addressee=addressee,
                    due_on=due_on,
                    questions=questions,
                    requested_by=staff,
                    requested_at=self._now(),
                )
            )
            payload = {
                "clarification_id": clarification_id,
                "requested_from": requested_from,
                "addressee": addressee,
                "letter_number": letter,
                "due_on": due_on.isoformat(),
                "questions": questions,
                "actor": staff,
            }
            return self._outbox(connection, "clarification.requested", case, payload)

    def close_case(
        self,
        case: CaseFile,
        *,
        reason: str = "SANCTION_IMPOSED",
        final_sanction: tuple[str, str] | None = None,
        merged_into: CaseFile | None = None,
        remarks: str | None = None,
        staff: str = "u-0007",
    ) -> int:
        """Close ``case``; return the outbox row id."""
        closed_on = self._now().date()
        level, kind = final_sanction or (None, None)
        with self.engine.begin() as connection:
            connection.execute(
                CLOSURES.insert().values(
                    case_id=case.id,
                    closing_reason=reason,
                    closed_on=closed_on,
                    sanction_level=level,
                    sanction_kind=kind,
                    remarks=remarks,
                    closed_by=staff,
                    closed_at=self._now(),
                )
            )
            self._set_status(connection, case, "CLOSED")
            payload = {
                "closing_reason": reason,
                "closed_on": closed_on.isoformat(),
                "final_sanction": None
                if final_sanction is None
                else {"level": level, "kind": kind},
                "merged_into": None if merged_into is None else _reference(merged_into),
                "remarks": remarks,
                "actor": staff,
            }
            return self._outbox(connection, "case.closed", case, payload)

    def send_letters_to(self, receiver: Callable[[Letter], None]) -> None:
        """Post every later proven recommendation to ``receiver`` (e.g. a PPK's registry)."""
        self._letters.append(receiver)

    # How it fails ---------------------------------------------------------------------------

    def corrupt_outbox_row(self, outbox_id: int | None = None) -> int:
        """Truncate an outbox row's JSON (the latest by default), as a botched data fix would."""
        with self.engine.begin() as connection:
            target = outbox_id or connection.scalar(select(func.max(OUTBOX.c.id)))
            payload = connection.scalar(select(OUTBOX.c.payload).where(OUTBOX.c.id == target))
            connection.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id == target)
                .values(payload=str(payload)[: len(str(payload)) // 2])
            )
        return int(target or 0)

    def write_outbox_row(self, kind: str, case: CaseFile | None, payload: Any) -> int:
        """Write an outbox row as given (e.g. a kind the connector does not know)."""
        with self.engine.begin() as connection:
            values = {
                "event_kind": kind,
                "payload": json.dumps(payload),
                "created_at": self._now(),
                **({} if case is None else _reference(case)),
            }
            return _new_id(connection.execute(OUTBOX.insert().values(**values)))

    def leave_gap(self) -> None:
        """Consume the next outbox id in a transaction that rolls back, as sequences do."""
        with self.engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # SQLite rolls its counter back with the insert; bump it as PostgreSQL would.
                bumped = connection.execute(
                    text("UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'outbox'")
                )
                if bumped.rowcount == 0:
                    connection.execute(text("INSERT INTO sqlite_sequence VALUES ('outbox', 1)"))
            else:
                connection.execute(text("SELECT nextval(pg_get_serial_sequence('outbox', 'id'))"))
            connection.commit()

    @contextmanager
    def pending_outbox_row(self, case: CaseFile) -> Iterator[None]:
        """A staff transaction that took an outbox id but has not committed (PostgreSQL only).

        Rows committed meanwhile get higher ids and are visible before this one.
        """
        with self.engine.connect() as connection:
            transaction = connection.begin()
            closure = {"closing_reason": "NOT_PROVEN", "closed_on": self._now().date().isoformat()}
            self._outbox(connection, "case.closed", case, closure)
            yield
            transaction.commit()

    @contextmanager
    def offline(self) -> Iterator[None]:
        """The database cannot be reached inside the block."""
        self.engine.dispose()
        with database_offline(self.url):
            yield

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """A long staff transaction holds the write lock inside the block."""
        url = make_url(self.url)
        if url.get_backend_name() == "sqlite":
            holder = sqlite3.connect(str(url.database), isolation_level=None)
            holder.execute("BEGIN EXCLUSIVE")
            try:
                yield
            finally:
                holder.rollback()
                holder.close()
            return
        with self.engine.connect() as connection, connection.begin():
            connection.execute(text("LOCK TABLE hub_case_events, case_status IN EXCLUSIVE MODE"))
            yield

    # What it holds ---------------------------------------------------------------------------

    def holds_cases(self) -> bool:
        """Whether any case is in the register."""
        with self.engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(CASES)) != 0

    def deliveries(self, event_id: str) -> int:
        """How many times the hub's event ``event_id`` is stored in ``hub_case_events``."""
        query = select(func.count()).where(HUB_CASE_EVENTS.c.event_id == event_id)
        with self.engine.connect() as connection:
            return int(connection.scalar(query) or 0)

    def case_status(self, hub_case_id: str) -> dict[str, Any] | None:
        """The ``case_status`` row of a case, or None."""
        query = select(CASE_STATUS).where(CASE_STATUS.c.case_id == hub_case_id)
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else row_dict(row)

    def outbox_row(self, outbox_id: int) -> dict[str, Any]:
        """One outbox row."""
        with self.engine.connect() as connection:
            return row_dict(
                connection.execute(select(OUTBOX).where(OUTBOX.c.id == outbox_id)).one()
            )

    # Running as a demo -----------------------------------------------------------------------

    def start(self, interval_seconds: float = 1.0) -> None:
        """Start the simulated staff in a daemon thread (see the module doc)."""
        self._staff.start(interval_seconds)

    def stop(self) -> None:
        """Stop the staff and release the database."""
        self._staff.stop()
        self.engine.dispose()

    def work_once(self) -> None:
        """One round of the staff: register referrals, recommend, close sanctioned cases."""
        for reference in self._new_referrals():
            self.open_case(*reference)
        for case, status in self._open_cases():
            if status == "REGISTERED" and not self._has_event(case, "RecommendationIssued"):
                if not self._waited(case):
                    continue
                self._recommend(case)
            elif status == "NOT_RECOMMENDED":
                self.close_case(case, reason="NOT_PROVEN")
            elif status == "RECOMMENDED" and (sanction := self._sanction_of(case)):
                self.close_case(case, reason="SANCTION_IMPOSED", final_sanction=sanction)

    def _recommend(self, case: CaseFile) -> None:
        """The staff's recommendation on ``case``: verdict and sanction drawn from its id alone.

        Not from the seeded generator: its next draw depends on which cases earlier rounds
        met, so the same case could be proven in one demo and not in another.
        """
        if not authority_proven(case.hub_case_id, self.proven_share):
            self.issue_recommendation(case, proven=False)
            return
        kinds = ETHICS_KINDS if case.violation.startswith("ETHICS_") else DISCIPLINE_KINDS
        kind = authority_sanction(case.hub_case_id, kinds)
        self.issue_recommendation(case, proven=True, level=KIND_LEVEL[kind], kind=kind)

    def _new_referrals(self) -> list[tuple[str, str, str]]:
        referrals = select(HUB_CASE_EVENTS.c.case_id, HUB_CASE_EVENTS.c.event_json).where(
            HUB_CASE_EVENTS.c.event_type == "ReferralForwarded",
            HUB_CASE_EVENTS.c.case_id.not_in(select(CASES.c.hub_case_id)),
        )
        found = []
        with self.engine.connect() as connection:
            for case_id, referral in connection.execute(referrals):
                report = self._event(connection, case_id, "ReportReceived")
                if report is not None:  # the report names the case: reporter and its number
                    source = report["envelope"]["source"]
                    found.append((source, report["case_number"], json.loads(referral)["violation"]))
        return found

    def _open_cases(self) -> list[tuple[CaseFile, str]]:
        query = select(CASES).where(CASES.c.status != "CLOSED").order_by(CASES.c.id)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            (
                CaseFile(
                    row.id, row.reported_by, row.case_number, row.register_number, row.violation
                ),
                row.status,
            )
            for row in rows
        ]

    def _waited(self, case: CaseFile) -> bool:
        """Whether the staff have taken the time the pace gives ``case`` since registering it."""
        if self._wait_of is None:
            return True
        query = select(CASES.c.registered_at).where(CASES.c.id == case.id)
        with self.engine.connect() as connection:
            registered = as_utc(connection.execute(query).scalar_one())
        wait = timedelta(seconds=self._wait_of(case.hub_case_id))
        return registered + wait <= self._now()

    def _has_event(self, case: CaseFile, event_type: str) -> bool:
        with self.engine.connect() as connection:
            return self._event(connection, case.hub_case_id, event_type) is not None

    def _sanction_of(self, case: CaseFile) -> tuple[str, str] | None:
        with self.engine.connect() as connection:
            sanction = self._event(connection, case.hub_case_id, "SanctionImposed")
        return None if sanction is None else (sanction["sanction_level"], sanction["sanction_kind"])

    @staticmethod
    def _event(connection: Connection, case_id: str, event_type: str) -> dict[str, Any] | None:
        found = connection.scalar(
            select(HUB_CASE_EVENTS.c.event_json)
            .where(HUB_CASE_EVENTS.c.case_id == case_id, HUB_CASE_EVENTS.c.event_type == event_type)
            .limit(1)
        )
        return None if found is None else dict(json.loads(found))

    # Helpers ---------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return as_utc(self._clock())

    def _letter_number(self, connection: Connection, table: Table, series: str) -> str:
        count = connection.scalar(select(func.count()).select_from(table)) or 0
        return f"{count + 1:04d}/{series}/{self.authority.upper()}/{self._now().year}"

    @staticmethod
    def _set_status(connection: Connection, case: CaseFile, status: str) -> None:
        connection.execute(update(CASES).where(CASES.c.id == case.id).values(status=status))

    def _outbox(
        self, connection: Connection, kind: str, case: CaseFile, payload: dict[str, Any]
    ) -> int:
        result = connection.execute(
            OUTBOX.insert().values(
                event_kind=kind,
                reported_by=case.reported_by,
                case_number=case.case_number,
                payload=json.dumps(payload),
                created_at=self._now(),
            )
        )
        return _new_id(result)

    def _send(self, letter: Letter) -> None:
        for receiver in self._letters:
            receiver(letter)


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _reference(case: CaseFile) -> dict[str, str]:
    return {"reported_by": case.reported_by, "case_number": case.case_number}


def demo_setup(root: Path) -> tuple[AuthoritySystem, dict[str, dict[str, Any]]]:
    """BKN's case-management database under ``root`` and both connectors' configurations.

    Its staff recommend on each referral at the demo's pace (:mod:`connectors.demo_pace`).

    Returns:
        The system (not started: call ``start()``, later ``stop()``) and the configuration
        of each connector by name (``authority-outbox``, ``authority-status``).
    """
    system = AuthoritySystem.on_sqlite(
        root / "authority", authority="bkn", seed=2024, wait_of=authority_wait
    )
    database = {"institution": "bkn", "database_url": system.url}
    return system, {
        "authority-outbox": database | {"poll_seconds": 1.0, "gap_grace_seconds": 10.0},
        "authority-status": database,
    }


__all__ = ["AuthoritySystem", "CaseFile", "Letter", "demo_setup"]
