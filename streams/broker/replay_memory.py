"""Which dead letters ``kawal dlq replay`` sent back, remembered by what each letter is.

A letter is known by a digest of its own fields (:func:`letter_identity`), never by its place
in ``kawal.dlq``: a topic deleted and made again (by an operator, or restored) puts new letters
at the old places, and a letter known by its place would be taken for one replayed before.
The hub writes each letter once, with the time of its rejection and its payload sealed with a
fresh key, so two letters share a digest only when one is a copy of the other (a restored
topic, a producer's retry): a copy is sent back once. A record refused again after a replay is
a new letter (another source offset, another time), so it is replayable once more.

The digests are kept in ``KAWAL_HOME/connectors/checkpoints.db``, table
``replayed_dead_letters``, next to the connectors' checkpoints. Releases before this one kept
places (``partition:offset``) in the checkpoint ``dlq-replay``; :meth:`ReplayMemory.migrate`
takes the letters now at those places as replayed, unless rejected after that checkpoint was
last written (new letters of a topic made again since), and drops the checkpoint, in one
transaction.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from schemas.errors import KawalError
from streams.private_files import private_database

#: Checkpoint under which releases before this one kept the places of the letters replayed.
POSITIONS_CHECKPOINT = "dlq-replay"
#: The fields of ``kawal.DeadLetter`` a letter is known by. Fixed: a field a later schema adds
#: must not change the identity of the letters replayed before it.
IDENTITY_FIELDS = (
    "stage",
    "reason_code",
    "reason",
    "source_topic",
    "source_partition",
    "source_offset",
    "rejected_at",
    "sealed_to",
    "payload",
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_POSITION = re.compile(r"\d+:\d+")


def letter_identity(letter: Mapping[str, Any]) -> str:
    """The SHA-256 of ``letter``'s :data:`IDENTITY_FIELDS`, in hex; the same for its copies."""
    digest = hashlib.sha256()
    for name in IDENTITY_FIELDS:
        value = _field_bytes(letter.get(name, ""))
        digest.update(f"{name}={len(value)}:".encode())
        digest.update(value)
    return digest.hexdigest()


def _field_bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, datetime):  # timestamp-millis: the milliseconds as written
        return str((value - _EPOCH) // timedelta(milliseconds=1)).encode()
    return str(value).encode()


class ReplayMemoryError(KawalError):
    """The memory of the letters replayed cannot be read or written."""


@dataclass(frozen=True)
class Migration:
    """What became of the places an earlier release remembered.

    Attributes:
        taken: Letters found at those places in ``kawal.dlq``, now remembered as replayed.
        gone: Places that hold no letter any more (expired, or the topic was made again).
        newer: Letters found at those places but rejected after the last replay remembered
            them: new letters of a topic made again since, not taken as replayed.
    """

    taken: int
    gone: int
    newer: int = 0


class ReplayMemory:
    """The identities of the dead letters sent back, in SQLite under ``KAWAL_HOME``.

    Raises:
        ReplayMemoryError: the file cannot be opened or is not a database.
    """

    def __init__(self, home: Path) -> None:
        self.path = home / "connectors" / "checkpoints.db"
        with self._reading():
            self._db = sqlite3.connect(
                private_database(self.path), isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS replayed_dead_letters ("
                "identity TEXT PRIMARY KEY, replayed_at TEXT NOT NULL)"
            )

    def replayed(self) -> set[str]:
        """The identities of every letter remembered as sent back."""
        with self._reading():
            rows = self._db.execute("SELECT identity FROM replayed_dead_letters").fetchall()
        return {str(row[0]) for row in rows}

    def remember(self, identities: Iterable[str]) -> None:
        """Remember ``identities`` as sent back (the broker acknowledged their letters).

        Raises:
            ReplayMemoryError: they could not be written; the next replay sends them again.
        """
        now = datetime.now(UTC).isoformat()
        rows = [(identity, now) for identity in identities]
        try:
            with self._transaction():
                self._db.executemany(
                    "INSERT OR IGNORE INTO replayed_dead_letters VALUES (?, ?)", rows
                )
        except sqlite3.Error as exc:
            raise ReplayMemoryError(
                f"{len(rows)} dead letters were sent back but could not be remembered in "
                f"{self.path} ({exc}): a later replay sends them again, and the hub refuses "
                "each as duplicate_event. Free the file (disk space, its permissions) before "
                "replaying again"
            ) from exc

    def migrate(self, positions_now: Mapping[str, tuple[str, datetime]]) -> Migration | None:
        """Take the letters at the places an earlier release remembered as replayed.

        Args:
            positions_now: The identity and time of rejection of the letter at each
                ``partition:offset`` of ``kawal.dlq`` now.

        Returns:
            What became of the places, or None when no earlier release left any.

        Raises:
            ReplayMemoryError: the places cannot be read; nothing is changed.
        """
        with self._reading():
            row = None
            if self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'checkpoints'"
            ).fetchone():
                row = self._db.execute(
                    "SELECT position, updated_at FROM checkpoints WHERE connector = ?",
                    (POSITIONS_CHECKPOINT,),
                ).fetchone()
        if row is None:
            return None
        positions = [place for place in str(row[0]).split(",") if place]
        malformed = [place for place in positions if not _POSITION.fullmatch(place)]
        if malformed:
            raise ReplayMemoryError(
                f"{self.path} holds, as checkpoint {POSITIONS_CHECKPOINT!r}, "
                f"{len(malformed)} places that are not partition:offset, such as "
                f"{malformed[0][:40]!r}: it was altered. Restore the file from its backup "
                "(docs/operations.md, Back up a one-machine hub) and replay again"
            )
        last_replay = self._written_at(str(row[1]))
        found = [positions_now[place] for place in positions if place in positions_now]
        taken = [identity for identity, rejected_at in found if rejected_at <= last_replay]
        with self._reading(), self._transaction():
            now = datetime.now(UTC).isoformat()
            self._db.executemany(
                "INSERT OR IGNORE INTO replayed_dead_letters VALUES (?, ?)",
                [(identity, now) for identity in taken],
            )
            self._db.execute("DELETE FROM checkpoints WHERE connector = ?", (POSITIONS_CHECKPOINT,))
        return Migration(len(taken), len(positions) - len(found), len(found) - len(taken))

    def _written_at(self, updated_at: str) -> datetime:
        """When an earlier release last wrote its places, as it stored it (UTC ISO 8601)."""
        try:
            written = datetime.fromisoformat(updated_at)
        except ValueError:
            written = None
        if written is None or written.tzinfo is None:
            raise ReplayMemoryError(
                f"{self.path} holds, as the time checkpoint {POSITIONS_CHECKPOINT!r} was "
                f"written, {updated_at[:40]!r}, not a UTC time: it was altered. Restore the "
                "file from its backup (docs/operations.md, Back up a one-machine hub) and "
                "replay again"
            )
        return written

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise ReplayMemoryError(
                f"the memory of the dead letters already replayed, {self.path}, cannot be "
                f"read ({exc}): replaying now could send again letters sent before, so "
                "nothing was sent. If another process holds the file, let it finish and "
                "replay again; if the file is damaged, restore it from its backup "
                "(docs/operations.md, Back up a one-machine hub): it also holds the inbound "
                "connectors' positions"
            ) from exc
