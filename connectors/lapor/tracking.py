"""Tracking codes and the steps of each tracked case, in SQLite.

A reporter gets a tracking code once, when the report is accepted (:mod:`.codes`: 120 random
bits, unguessable). The store keeps only its SHA-256:
whoever reads the file cannot follow a case, nor tell which code belongs to which report.
(A slow hash would add nothing: the code is random, not a password a person chose.)

The steps of a case come from Bawaslu's feed (:class:`connectors.lapor.connector.LaporStatus`),
once per feed entry (``seq``), so a redelivered entry changes nothing. The file is mode 0600
in the portal's folder (0700): which case a code follows is the reporter's secret.
"""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from connectors.errors import ConnectorError
from connectors.lapor.filing import Standing
from connectors.lapor.portal_database import PortalDatabase

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS codes ("
    "code_hash TEXT PRIMARY KEY, case_id TEXT NOT NULL, region_code TEXT NOT NULL, "
    "created_at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS codes_case ON codes (case_id)",
    "CREATE TABLE IF NOT EXISTS steps ("
    "case_id TEXT NOT NULL, seq INTEGER NOT NULL, step TEXT NOT NULL, at TEXT NOT NULL, "
    "PRIMARY KEY (case_id, seq))",
    # A table of its own, not a column of codes: a store written before it needs no migration.
    # Only reports filed over the limit have a row (their standing, connectors.lapor.filing).
    "CREATE TABLE IF NOT EXISTS filing (case_id TEXT PRIMARY KEY, standing TEXT NOT NULL)",
)


class TrackingUnavailableError(ConnectorError):
    """The tracking store cannot be used now (locked, disk full, not private)."""


@dataclass(frozen=True)
class TrackedStep:
    """One step of a case: its position in the case's trail, code and time."""

    seq: int
    step: str
    at: datetime


@dataclass(frozen=True)
class Tracked:
    """A case a code follows: its region (for its time zone), its steps so far, its standing."""

    case_id: str
    region_code: str
    received_at: datetime
    steps: list[TrackedStep]
    #: The report under the filing rule when it was sent (a late one's page says so).
    standing: Standing = Standing.TIMELY


def code_hash(code: str) -> str:
    """What the store keeps of a code."""
    return hashlib.sha256(b"kawal.tracking.v1\x00" + code.encode()).hexdigest()


class TrackingStore:
    """Codes → cases, and each case's steps, in ``<directory>/tracking.db``."""

    FILE_NAME = "tracking.db"

    def __init__(self, directory: Path, busy_seconds: float = 5.0) -> None:
        self.path = directory / self.FILE_NAME
        self._store = PortalDatabase(
            self.path, _SCHEMA, "the tracking store", TrackingUnavailableError, busy_seconds
        )

    def add(
        self,
        code: str,
        case_id: str,
        region_code: str,
        at: datetime,
        standing: Standing = Standing.TIMELY,
    ) -> bool:
        """Let ``code`` follow ``case_id``; False if it did already (a form sent again)."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO codes VALUES (?, ?, ?, ?) ON CONFLICT (code_hash) DO NOTHING",
                (code_hash(code), case_id, region_code, at.astimezone(UTC).isoformat()),
            )
            if standing is not Standing.TIMELY:
                db.execute(
                    "INSERT INTO filing VALUES (?, ?) ON CONFLICT (case_id) DO NOTHING",
                    (case_id, standing.value),
                )
            return cursor.rowcount == 1

    def remove(self, code: str) -> None:
        """Forget ``code`` (its report could not be spooled after all)."""
        with self._transaction() as db:
            db.execute("DELETE FROM codes WHERE code_hash = ?", (code_hash(code),))

    def is_tracked(self, case_id: str) -> bool:
        """Whether a code follows ``case_id``."""
        with self._transaction() as db:
            row = db.execute("SELECT 1 FROM codes WHERE case_id = ?", (case_id,)).fetchone()
        return row is not None

    def record(self, case_id: str, seq: int, step: str, at: datetime) -> None:
        """Note step ``step`` of ``case_id`` at trail position ``seq`` (once per position)."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO steps VALUES (?, ?, ?, ?)",
                (case_id, seq, step, at.astimezone(UTC).isoformat()),
            )

    def follow(self, code: str) -> Tracked | None:
        """The case ``code`` follows with its steps, or None for an unknown code."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT case_id, region_code, created_at FROM codes WHERE code_hash = ?",
                (code_hash(code),),
            ).fetchone()
            if row is None:
                return None
            steps = db.execute(
                "SELECT seq, step, at FROM steps WHERE case_id = ? ORDER BY seq", (row[0],)
            ).fetchall()
            filed = db.execute("SELECT standing FROM filing WHERE case_id = ?", (row[0],))
            standing = filed.fetchone()
        return Tracked(
            case_id=str(row[0]),
            region_code=str(row[1]),
            received_at=datetime.fromisoformat(row[2]),
            steps=[TrackedStep(int(s[0]), str(s[1]), datetime.fromisoformat(s[2])) for s in steps],
            standing=_standing(standing[0]) if standing else Standing.TIMELY,
        )

    def close(self) -> None:
        """Close the database."""
        self._store.close()

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._store.transaction()


def _standing(stored: object) -> Standing:
    """A stored standing; one this version does not know is told as possibly late."""
    try:
        return Standing(str(stored))
    except ValueError:
        return Standing.MAYBE_LATE
