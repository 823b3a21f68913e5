"""A stand-in for a PPK's decree registry (the employing agency's personnel office).

Clerks draft sanction decrees; the PPK signs them later, which assigns the decree number; a
signed decree can be revoked. Every change takes the next ``change_seq`` from the registry's
counter row in the same transaction. The registry misbehaves as real ones do: it can be taken
offline (the SQLite file moved away, or PostgreSQL refusing connections), a clerk can record a
decree with a sanction outside PP 94/2021 or without the case reference, and a clerk can hold
a change open (its number taken, not yet committed). Everything it invents comes from a seeded
generator, so a test sees the same data on every run.

What the hub tells the PPK arrives through the ``ppk-inbox`` connector: recommendations in the
office's in-tray (``recommendations``), the hub's refusals of decrees in ``hub_refusals``.
:meth:`start` runs the office in a thread: each round it signs the drafts of the round before
and drafts a decree for each new proven recommendation, naming the hub's case id, the civil
servant the in-tray names (one of the case's own when the hub disclosed none yet, never another
case's) and the recommended sanction (the lightest kind of the level when the authority left
the kind to the PPK), so decrees move DRAFT → SIGNED as in a real office. A recommendation of
a case the registry holds a signed decree for is filed with that decree: a case takes one
decree, and a sanction changed on objection or appeal is the decision's, not a new decree's.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, func, select, update
from sqlalchemy import exc as sa_exc

from connectors.demo_pace import STALE_RECOMMENDATION, ppk_wait
from connectors.ppk.database import (
    CHANGE_COUNTER,
    DECREES,
    DRAFT,
    DRAFTED,
    HUB_REFUSALS,
    NEW,
    RECOMMENDATIONS,
    REVOKED,
    SIGNED,
    upgrade,
)
from connectors.simulation import SimulatedStaff, database_offline
from connectors.sql import open_engine
from streams.domain.sanctions import KIND_LEVEL
from streams.sql_time import as_utc


class DecreeRegistry:
    """The decree registry of one PPK.

    Args:
        url: SQLAlchemy URL of an existing, empty or already set-up database.
        seed: seeds every invented value.
        clock: the registry's clock (UTC); the real one by default.
        wait_of: seconds the office takes, from the hub's recording of a recommendation (hub
            case id), before drafting its decree, None for one it leaves unanswered (the
            demo's pace, :func:`connectors.demo_pace.ppk_wait`); a recommendation issued
            :data:`~connectors.demo_pace.STALE_RECOMMENDATION` before it reached the in-tray
            is left too. None: every one at the next round.
    """

    def __init__(
        self,
        url: str,
        *,
        seed: int = 0,
        clock: Callable[[], datetime] | None = None,
        wait_of: Callable[[str], float | None] | None = None,
    ) -> None:
        self.url = url
        self._wait_of = wait_of
        self._random = random.Random(seed)  # noqa: S311 - invented data, not secrets
        self._series = f"{self._random.getrandbits(24):06X}"  # decree numbers of this registry
        self._clock = clock or (lambda: datetime.now(UTC))
        self._cases = 0
        self._office = SimulatedStaff("ppk-office", self.work_once, (sa_exc.SQLAlchemyError,))
        setup = create_engine(url)
        if setup.dialect.name == "sqlite":
            with setup.connect() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")  # reads while it writes
        upgrade(setup)  # a registry of an older release gets the tables and columns it lacks
        with setup.begin() as connection:
            if connection.scalar(select(CHANGE_COUNTER.c.value)) is None:
                connection.execute(CHANGE_COUNTER.insert().values(name="decrees", value=0))
        setup.dispose()
        self.engine = open_engine(url, timeout_seconds=5.0)

    @classmethod
    def on_sqlite(cls, root: Path, **options: Any) -> DecreeRegistry:
        """A registry whose database is the SQLite file ``root/decrees.db``."""
        root.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{(root / 'decrees.db').resolve()}", **options)

    # What its clerks and the PPK do -----------------------------------------------------------

    def draft(
        self,
        reported_by: str | None,
        case_number: str | None,
        level: str = "MEDIUM",
        kind: str = "ALLOWANCE_CUT_25_6_MONTHS",
        effective_on: date | None = None,
        *,
        case_id: str | None = None,
        subject: tuple[str, str] | None = None,
    ) -> int:
        """A clerk drafts a decree; return its id (it has no number until signed).

        The decree names its case by ``reported_by`` and ``case_number``, or by the hub's
        ``case_id``, as a recommendation in the in-tray names it, and the civil servant by
        ``subject`` (NIP, name); without it, by one invented for this decree.
        """
        today = self._now().date()
        nip, name = subject or self._invented_subject()
        with self.engine.begin() as connection:
            result = connection.execute(
                DECREES.insert().values(
                    reported_by=reported_by,
                    case_number=case_number,
                    case_id=case_id,
                    subject_nip=nip,
                    subject_name=name,
                    sanction_level=level,
                    sanction_kind=kind,
                    effective_on=effective_on or _first_of_next_month(today),
                    status=DRAFT,
                    change_seq=self._next_change(connection),
                    updated_at=self._now(),
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def sign(self, decree_id: int, signed_by: str = "u-0001") -> str:
        """The PPK signs a draft; return the decree number it gets."""
        with self.engine.begin() as connection:
            signed = select(func.count()).where(DECREES.c.decree_number.is_not(None))
            count = connection.scalar(signed) or 0
            number = f"800.1.6/{count + 1:03d}/{self._series}/{self._now().year}"
            self._change(
                connection,
                decree_id,
                status=SIGNED,
                decree_number=number,
                signed_at=self._now(),
                signed_by=signed_by,
            )
        return number

    def revoke(self, decree_id: int) -> None:
        """Revoke a decree (a signed one, or a draft that is discarded)."""
        with self.engine.begin() as connection:
            self._change(connection, decree_id, status=REVOKED)

    def issue(self, reported_by: str | None, case_number: str | None, **sanction: Any) -> str:
        """Draft and sign a decree at once; return its number."""
        return self.sign(self.draft(reported_by, case_number, **sanction))

    def new_case_reference(self) -> tuple[str, str]:
        """A case reference (reporting institution, its case number) new to this registry."""
        self._cases += 1
        return "bawaslu.33", f"{self._cases:03d}/LP/PB/33/{self._series}/2024"

    # How it fails ---------------------------------------------------------------------------

    def write_invalid_decree(self, flaw: str = "sanction") -> str:
        """Sign a decree a clerk recorded wrongly; return its number.

        Args:
            flaw: ``sanction`` (a level and kind outside PP 94/2021, in the office's own
                words), ``kind`` (a kind of another level), ``case`` (no case reference),
                ``case_id`` (a case id that is no UUID) or ``nip`` (a subject NIP that is no
                NIP: a letter typed for its last digit).
        """
        reported_by: str | None = "bawaslu.33"
        case_number: str | None = f"INVALID/{self._series}"
        level, kind = "MEDIUM", "ALLOWANCE_CUT_25_6_MONTHS"
        if flaw == "sanction":
            level, kind = "SEDANG", "POTONG_TUNKIN_25"
        elif flaw == "kind":
            kind = "ORAL_REPRIMAND"
        elif flaw == "case":
            reported_by = case_number = None
        case_id = f"case-{self._series}" if flaw == "case_id" else None
        subject = ("19800101200501100X", "Salah Ketik") if flaw == "nip" else None
        return self.sign(
            self.draft(reported_by, case_number, level, kind, case_id=case_id, subject=subject)
        )

    @contextmanager
    def open_change(self) -> Iterator[int]:
        """A clerk's change holding the next change number, not yet committed; yields its id.

        PostgreSQL only: on SQLite the open change would block every other writer.
        """
        with self.engine.connect() as connection:
            transaction = connection.begin()
            result = connection.execute(
                DECREES.insert().values(
                    reported_by="bawaslu.33",
                    case_number=f"OPEN/{self._series}",
                    subject_nip="199001012015031001",
                    subject_name="Open Change",
                    status=DRAFT,
                    change_seq=self._next_change(connection),
                    updated_at=self._now(),
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            yield int(key[0])
            transaction.commit()

    @contextmanager
    def offline(self) -> Iterator[None]:
        """The registry cannot be reached inside the block."""
        self.engine.dispose()
        with database_offline(self.url):
            yield

    # What it holds ---------------------------------------------------------------------------

    def decree(self, decree_id: int) -> dict[str, Any]:
        """One decree row (every column)."""
        with self.engine.connect() as connection:
            row = connection.execute(select(DECREES).where(DECREES.c.id == decree_id)).one()
        return dict(row._mapping)

    def recommendations(self) -> list[dict[str, Any]]:
        """The office's in-tray: every recommendation the hub delivered, oldest first."""
        query = select(RECOMMENDATIONS).order_by(RECOMMENDATIONS.c.id)
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def refusal_of(self, decree_id: int) -> dict[str, Any] | None:
        """The hub's latest refusal of a decree (reason code, reason, time), or None."""
        query = (
            select(HUB_REFUSALS)
            .where(HUB_REFUSALS.c.decree_id == decree_id)
            .order_by(HUB_REFUSALS.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).one_or_none()
        return None if row is None else dict(row._mapping)

    def unmatched_refusals(self) -> list[dict[str, Any]]:
        """The hub's refusals that match no decree of the registry."""
        query = select(HUB_REFUSALS).where(HUB_REFUSALS.c.decree_id.is_(None))
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    # Running as a demo -----------------------------------------------------------------------

    def start(self, interval_seconds: float = 2.0) -> None:
        """Start the office in a daemon thread (see the module doc)."""
        self._office.start(interval_seconds)

    def stop(self) -> None:
        """Stop the office and release the database."""
        self._office.stop()
        self.engine.dispose()

    def work_once(self) -> None:
        """One round of the office: sign the waiting drafts, then draft the new recommendations."""
        with self.engine.connect() as connection:
            drafts = connection.scalars(select(DECREES.c.id).where(DECREES.c.status == DRAFT))
            waiting = list(drafts)
            new = connection.execute(
                select(RECOMMENDATIONS).where(RECOMMENDATIONS.c.status == NEW)
            ).all()
        for decree_id in waiting:
            self.sign(decree_id)
        for recommendation in new:
            level = recommendation.sanction_level
            kind = recommendation.sanction_kind or _lightest_kind(level)
            case_id = recommendation.case_id
            # A case takes one decree: a change to it comes by objection or appeal. Filing a
            # recommendation with its decree decides nothing, so it waits for no pace.
            decree_id = self._signed_decree_of(case_id)
            if decree_id is None and not self._due(dict(recommendation._mapping)):
                continue
            if decree_id is None:
                subject = self._subject_of(dict(recommendation._mapping))
                decree_id = self.draft(None, None, level, kind, case_id=case_id, subject=subject)
            with self.engine.begin() as connection:
                connection.execute(
                    update(RECOMMENDATIONS)
                    .where(RECOMMENDATIONS.c.id == recommendation.id)
                    .values(status=DRAFTED, decree_id=decree_id)
                )

    def record_signed(self, decree: Mapping[str, Any]) -> int:
        """Write a decree signed before this registry's office ran; return its change number.

        ``decree`` holds the columns of ``decrees`` but ``status``, ``change_seq`` and
        ``updated_at``.
        """
        with self.engine.begin() as connection:
            change = self._next_change(connection)
            connection.execute(
                DECREES.insert().values(
                    **decree, status=SIGNED, change_seq=change, updated_at=self._now()
                )
            )
        return change

    def holds_decrees(self) -> bool:
        """Whether any decree, drafted or signed, is in the registry."""
        with self.engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(DECREES)) != 0

    # Helpers ---------------------------------------------------------------------------------

    def _due(self, recommendation: Mapping[str, Any]) -> bool:
        """Whether the office drafts the decree of ``recommendation`` now (see ``wait_of``)."""
        if self._wait_of is None:
            return True
        wait = self._wait_of(str(recommendation["case_id"]))
        recorded = as_utc(recommendation["recorded_at"])
        if wait is None or recorded - as_utc(recommendation["issued_at"]) > STALE_RECOMMENDATION:
            return False
        return recorded + timedelta(seconds=wait) <= self._now()

    def _signed_decree_of(self, case_id: str) -> int | None:
        """The id of the decree signed for ``case_id`` and not revoked, if any."""
        query = select(DECREES.c.id).where(DECREES.c.case_id == case_id, DECREES.c.status == SIGNED)
        with self.engine.connect() as connection:
            return connection.scalars(query.limit(1)).first()

    def _now(self) -> datetime:
        return as_utc(self._clock())

    def _subject_of(self, recommendation: Mapping[str, Any]) -> tuple[str, str]:
        """Whom a decree for ``recommendation`` names: the subject the hub disclosed for it.

        Until the hub discloses it (docs/connectors.md, ``ppk-inbox``), the office names the
        subject of an earlier decree of the same case, else one invented for the case alone:
        never the subject of another case.
        """
        nip, name = recommendation.get("subject_nip"), recommendation.get("subject_name")
        if nip and name:
            return str(nip), str(name)
        query = (
            select(DECREES.c.subject_nip, DECREES.c.subject_name)
            .where(DECREES.c.case_id == recommendation["case_id"])
            .order_by(DECREES.c.id)
            .limit(1)
        )
        with self.engine.connect() as connection:
            earlier = connection.execute(query).one_or_none()
        known = self._invented_subject() if earlier is None else tuple(earlier)
        return str(nip or known[0]), str(name or known[1])

    def _invented_subject(self) -> tuple[str, str]:
        """A NIP (18 digits, new to this registry in all likelihood) and a name."""
        nip = f"19{self._random.randrange(10**15, 10**16)}"
        return nip, f"{self._random.choice(_GIVEN_NAMES)} {nip[-4:]}"

    def _change(self, connection: Connection, decree_id: int, **values: Any) -> None:
        change = self._next_change(connection)
        connection.execute(
            update(DECREES)
            .where(DECREES.c.id == decree_id)
            .values(change_seq=change, updated_at=self._now(), **values)
        )

    @staticmethod
    def _next_change(connection: Connection) -> int:
        # Updating the one counter row locks it until commit: changes number in commit order.
        bumped = connection.execute(
            update(CHANGE_COUNTER)
            .where(CHANGE_COUNTER.c.name == "decrees")
            .values(value=CHANGE_COUNTER.c.value + 1)
            .returning(CHANGE_COUNTER.c.value)
        )
        return int(bumped.scalar_one())


#: Given names of invented subjects; the last digits of the NIP tell namesakes apart.
_GIVEN_NAMES = ("Budi Santoso", "Siti Rahayu", "Agus Wibowo", "Dewi Lestari", "Rudi Hartono")


def _first_of_next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _lightest_kind(level: str) -> str:
    return next(kind for kind, of in KIND_LEVEL.items() if of == level)


def demo_setup(root: Path) -> tuple[DecreeRegistry, dict[str, dict[str, Any]]]:
    """The decree registry of PPK Kota Semarang under ``root`` and the connector's configuration.

    Its office decrees at the demo's pace and leaves some recommendations unanswered
    (:mod:`connectors.demo_pace`).

    Returns:
        The registry (not started: call ``start()``, later ``stop()``) and the configuration
        by connector name (``ppk-decrees``, which publishes its decrees, and ``ppk-inbox``,
        which brings it the recommendations and the hub's refusals).
    """
    registry = DecreeRegistry.on_sqlite(root / "ppk.3374", seed=3374, wait_of=ppk_wait)
    config = {"institution": "ppk.3374", "database_url": registry.url}
    return registry, {"ppk-decrees": config, "ppk-inbox": dict(config)}
