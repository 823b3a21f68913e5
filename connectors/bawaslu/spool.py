"""The spool of the webhook intake: accepted posts in SQLite, on disk before the 202.

The intake appends each accepted post; the connector reads them in intake-id order after its
checkpoint, marks them forwarded once they are in the hub, and erases their bodies once they
were forwarded longer ago than the configured retention (the hub keeps the case; the spool
keeps each post's fingerprint, Bawaslu's id and the SHA-256 of its body, so a repeat is still
recognised). A post not yet forwarded keeps its body however old it is: it is the only copy
the hub has. The file is mode 0600 in a folder of mode 0700, and erased bodies are
overwritten with zeros (``secure_delete``), not left in the file's free pages.

Bodies are kept sealed (:mod:`connectors.bawaslu.sealing`), never in clear: a copy of the file
(a backup, a disk sent for repair) holds no personal data without the spool key. A spool an
older release wrote keeps its bodies in clear in ``body``; they are sealed, and the clear
text overwritten, the first time the spool is opened, before anything is read from it. A
record that does not open (another key, altered) is read as an :class:`UnreadablePost`, kept
in the file, never dropped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.bawaslu.sealing import SpoolSealer, UnreadableRecord
from connectors.errors import ConnectorError
from streams.private_files import PrivateFileError, private_database

log = logging.getLogger(__name__)


class SpoolUnavailableError(ConnectorError):
    """The spool database cannot be used now (locked by another process, disk full...)."""


class PostIdConflictError(ConnectorError):
    """A post id came again with a different body."""


@dataclass(frozen=True)
class SpooledPost:
    """One accepted post: its intake id (the spool's order), Bawaslu's id and its body."""

    intake_id: int
    post_id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class UnreadablePost:
    """A spooled post whose sealed body does not open: where it is, and why."""

    intake_id: int
    post_id: str
    problem: UnreadableRecord


class Spool:
    """Accepted posts in SQLite, on disk before the intake answers 202.

    Rollback journal with ``synchronous=FULL``: a commit has reached the disk when it returns,
    which is what a 202 promises. The intake and the connector take turns on the file; at a
    few posts a second that costs nothing. Opened lazily, so a spool that is locked or
    missing makes a read or a post fail (and be retried), never the connector's start.
    """

    FILE_NAME = "intake.db"
    _SCHEMA = (
        "CREATE TABLE IF NOT EXISTS posts ("
        "intake_id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "post_id TEXT NOT NULL UNIQUE, "
        "digest TEXT NOT NULL, "
        "body TEXT, "  # in clear, only as an older release wrote it: sealed at first open
        "received_at TEXT NOT NULL, "
        "forwarded_at TEXT, "
        "sealed BLOB, "  # NULL once erased after forwarding (retention_days)
        "key_id TEXT)"
    )
    #: Columns an older release's spool lacks, added when it is first opened.
    _ADDED = (("sealed", "BLOB"), ("key_id", "TEXT"))

    def __init__(self, directory: Path, busy_seconds: float, sealer: SpoolSealer) -> None:
        self.path = directory / self.FILE_NAME
        self._busy_seconds = busy_seconds
        self._sealer = sealer
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def append(self, post_id: str, body: bytes) -> tuple[int, bool]:
        """Store a post; return its intake id and whether it is a duplicate.

        Raises:
            PostIdConflictError: ``post_id`` was stored before with a different body.
            SpoolUnavailableError: the spool cannot be written now.
        """
        digest = hashlib.sha256(body).hexdigest()
        with self._transaction() as db:
            row = db.execute(
                "SELECT intake_id, digest FROM posts WHERE post_id = ?", (post_id,)
            ).fetchone()
            if row is not None:
                if row[1] != digest:
                    raise PostIdConflictError(f"post id {post_id} was accepted with another body")
                return int(row[0]), True
            cursor = db.execute(
                "INSERT INTO posts (post_id, digest, received_at) VALUES (?, ?, ?)",
                (post_id, digest, _stamp(datetime.now(UTC))),
            )
            # Sealed once the row has its intake id, which the seal binds; same transaction.
            intake_id = int(cursor.lastrowid or 0)
            self._store_sealed(db, intake_id, post_id, body)
            return intake_id, False

    def after(self, intake_id: int, limit: int) -> list[SpooledPost | UnreadablePost]:
        """Up to ``limit`` posts after ``intake_id``, oldest first (erased ones skipped).

        A post whose body does not open is returned as an :class:`UnreadablePost`, in its
        place: the reader decides what to do with it, the spool keeps it.

        Raises:
            SpoolUnavailableError: the spool cannot be read now.
        """
        with self._transaction(write=False) as db:
            rows = db.execute(
                "SELECT intake_id, post_id, key_id, sealed FROM posts "
                "WHERE intake_id > ? AND sealed IS NOT NULL ORDER BY intake_id LIMIT ?",
                (intake_id, limit),
            ).fetchall()
        return [self._opened(int(row[0]), str(row[1]), str(row[2]), row[3]) for row in rows]

    def last_intake_id(self) -> int:
        """The highest intake id the spool ever gave a post (0 for an empty spool).

        Raises:
            SpoolUnavailableError: the spool cannot be read now.
        """
        with self._transaction(write=False) as db:
            row = db.execute("SELECT MAX(intake_id) FROM posts").fetchone()
        return int(row[0] or 0)

    def _opened(
        self, intake_id: int, post_id: str, key_id: str, sealed: object
    ) -> SpooledPost | UnreadablePost:
        body = self._sealer.open(intake_id, post_id, key_id, sealed)
        if isinstance(body, UnreadableRecord):
            return UnreadablePost(intake_id, post_id, body)
        return SpooledPost(intake_id, post_id, json.loads(body))

    def _store_sealed(
        self, db: sqlite3.Connection, intake_id: int, post_id: str, body: bytes
    ) -> None:
        db.execute(
            "UPDATE posts SET sealed = ?, key_id = ?, body = NULL WHERE intake_id = ?",
            (self._sealer.seal(intake_id, post_id, body), self._sealer.key_id, intake_id),
        )

    def mark_forwarded(self, intake_ids: Sequence[int], now: datetime) -> None:
        """Note that these posts reached the hub at ``now`` (a post marked before keeps its time).

        Raises:
            SpoolUnavailableError: the spool cannot be written now.
        """
        with self._transaction() as db:
            db.executemany(
                "UPDATE posts SET forwarded_at = ? WHERE intake_id = ? AND forwarded_at IS NULL",
                [(_stamp(now), intake_id) for intake_id in intake_ids],
            )

    def erase_forwarded(self, before: datetime) -> int:
        """Erase the bodies of posts forwarded at or before ``before``; return how many.

        The spool holds personal data (the reported civil servant, the reporter) only as long
        as it must: once the hub and Bawaslu's own system hold a post, the spool's copy only
        serves a re-delivery or a diagnosis.

        Raises:
            SpoolUnavailableError: the spool cannot be written now.
        """
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE posts SET sealed = NULL "
                "WHERE sealed IS NOT NULL AND forwarded_at IS NOT NULL AND forwarded_at <= ?",
                (_stamp(before),),
            )
            return cursor.rowcount

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._reset()

    @contextmanager
    def _transaction(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        # A writer takes the write lock up front, so its check-then-insert is atomic.
        with self._lock:
            try:
                db = self._connection()
                db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.Error as exc:
                self._reset()
                raise SpoolUnavailableError(f"spool {self.path} unavailable ({exc})") from exc
            try:
                yield db
                db.execute("COMMIT")
            except BaseException as exc:
                _rollback(db)
                if isinstance(exc, sqlite3.Error):
                    self._reset()
                    raise SpoolUnavailableError(f"spool {self.path} unavailable ({exc})") from exc
                raise

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                private_database(self.path)
            except (OSError, PrivateFileError) as exc:
                raise SpoolUnavailableError(
                    f"spool {self.path} cannot be kept private ({exc})"
                ) from exc
            db = sqlite3.connect(
                self.path, timeout=self._busy_seconds, isolation_level=None, check_same_thread=False
            )
            try:
                db.execute("PRAGMA synchronous=FULL")
                # Zeros over erased bodies: personal data does not linger in free pages.
                db.execute("PRAGMA secure_delete=ON")
                db.execute(self._SCHEMA)
                self._upgrade(db)
            except sqlite3.Error:
                db.close()
                raise
            self._db = db
        return self._db

    def _upgrade(self, db: sqlite3.Connection) -> None:
        """Bring a spool an older release wrote up to date: its columns, its clear bodies sealed.

        Both the intake and the connector may open the file first; whichever does seals, in
        one transaction, and the other finds nothing left in clear.
        """
        db.execute("BEGIN IMMEDIATE")
        try:
            present = {str(row[1]) for row in db.execute("PRAGMA table_info(posts)")}
            for column, kind in self._ADDED:
                if column not in present:
                    db.execute(f"ALTER TABLE posts ADD COLUMN {column} {kind}")
            clear = db.execute(
                "SELECT intake_id, post_id, body FROM posts WHERE body IS NOT NULL"
            ).fetchall()
            for intake_id, post_id, body in clear:
                self._store_sealed(db, int(intake_id), str(post_id), str(body).encode())
            db.execute("COMMIT")
        except BaseException:
            _rollback(db)
            raise
        if clear:
            log.info(
                "spool %s: sealed %d posts an older release kept in clear", self.path, len(clear)
            )

    def _reset(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _stamp(moment: datetime) -> str:
    """``moment`` as stored: UTC to the microsecond, so that text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _rollback(db: sqlite3.Connection) -> None:
    with suppress(sqlite3.Error):  # no transaction left to roll back: the failure ended it
        db.execute("ROLLBACK")
