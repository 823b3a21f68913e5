"""Evidence files held for a form sent back, so that sending it again never drops them.

A browser never fills a file field in again: a form the portal sends back (a late report to
confirm, a field to mend, one file refused) would come back without the files the reporter
had chosen, and a reporter who did not notice would send the report without its evidence.
So the files of a form sent back are held, cleaned and encrypted like any evidence
(:meth:`EvidenceStore.hold <connectors.lapor.evidence.EvidenceStore.hold>`, under
``held/<place>/`` in the evidence bucket), bound to the form's token
(:mod:`connectors.lapor.resubmission`); the page lists each one by its name and size, ticked,
and the form sent again names the ones kept (``kept_evidence``, their SHA-256). Only a form
carrying the same token gets them: the token is a 144-bit secret of that reporter's page.

The binding is ``spool_dir/held.db`` (mode 0600): the token's digest (``place``), each file's
hash, type and size, and its name on the reporter's device sealed under a key derived from the
token, so the file alone names no file and no form. A file is held for
:data:`HOLD_SECONDS`; then the portal deletes it and its row (at the next hold, and at the
connector's expiry round), and a form naming it is refused saying to choose the files again.
All held files together are bounded (:data:`HELD_REPORTS` reports' worth): past it, a form's
files are not held and its page says to choose them again.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from connectors.errors import ConnectorError
from connectors.lapor.evidence import EvidenceError, EvidenceStore, StoredEvidence
from connectors.lapor.media import EvidenceLimits
from connectors.lapor.portal_database import PortalDatabase
from connectors.lapor.resubmission import valid_form_token

log = logging.getLogger(__name__)

#: How long a form's files are held (s): time to read the page, mend it and send it again.
HOLD_SECONDS = 3600
#: All held files together: at most this many reports' worth of evidence (the limit of one
#: report's files times this), so refused forms cannot fill the store.
HELD_REPORTS = 40
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PLACE = b"kawal.lapor.held.v1\x00"
_NAME_KEY = b"kawal.lapor.held.name.v1"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS held ("
    "place TEXT NOT NULL, sha256 TEXT NOT NULL, media_type TEXT NOT NULL, "
    "size INTEGER NOT NULL, name BLOB NOT NULL, expires_at TEXT NOT NULL, "
    "PRIMARY KEY (place, sha256))",
    "CREATE INDEX IF NOT EXISTS held_expiry ON held (expires_at)",
)


class HoldingUnavailableError(ConnectorError):
    """The held files cannot be looked up, kept or taken now: try again."""


@dataclass(frozen=True)
class HeldFile:
    """A file held for a form: its hash, sniffed type, size and name on the reporter's device."""

    sha256: str
    media_type: str
    size_bytes: int
    name: str

    def __repr__(self) -> str:
        # Not the name: it may name a person.
        return f"HeldFile({self.sha256[:16]}, {self.size_bytes} bytes)"


@dataclass(frozen=True)
class Cleaned:
    """A file ready to keep: its bytes without metadata, sniffed type, name on the device."""

    data: bytes
    media_type: str
    name: str

    def __repr__(self) -> str:
        return f"Cleaned({len(self.data)} bytes)"


def place_of(token: str) -> str:
    """What the store keeps of a form token: its digest, from which the token cannot be had."""
    return hashlib.sha256(_PLACE + token.encode()).hexdigest()


class Holding:
    """The files held for forms sent back, in the evidence store and ``held.db``.

    Args:
        directory: the portal's folder (``spool_dir``).
        evidence: the evidence store the files are held in.
        limits: one report's evidence limits (the bound of all held files is a multiple).
        lifetime: how long a file is held.
    """

    FILE_NAME = "held.db"

    def __init__(
        self,
        directory: Path,
        evidence: EvidenceStore,
        limits: EvidenceLimits,
        lifetime: timedelta = timedelta(seconds=HOLD_SECONDS),
        busy_seconds: float = 5.0,
    ) -> None:
        self.path = directory / self.FILE_NAME
        self.evidence = evidence
        self.lifetime = lifetime
        self.bound = limits.max_total_bytes * HELD_REPORTS
        # A deleted row leaves no name in the file's free pages.
        self._store = PortalDatabase(
            self.path,
            _SCHEMA,
            "the held files' store",
            HoldingUnavailableError,
            busy_seconds,
            pragmas=["PRAGMA secure_delete=ON"],
        )

    def kept(
        self, token: str | None, names: Sequence[str], now: datetime
    ) -> tuple[list[HeldFile], int]:
        """The files ``names`` (SHA-256) still held for ``token``, in order; and how many are not.

        A name held for another form, expired, or no hash at all counts as not held.

        Raises:
            HoldingUnavailableError: ``held.db`` cannot be read.
        """
        wanted = list(dict.fromkeys(names))  # a name sent twice is one file
        token = valid_form_token(token)
        if token is None or not wanted:
            return [], len(wanted)
        with self._transaction() as db:
            rows = db.execute(
                "SELECT sha256, media_type, size, name FROM held WHERE place = ? "
                "AND expires_at > ?",
                (place_of(token), _stamp(now)),
            ).fetchall()
        found = {
            str(sha256): HeldFile(str(sha256), str(kind), int(size), _open(token, sha256, name))
            for sha256, kind, size, name in rows
        }
        held = [found[name] for name in wanted if _SHA256.fullmatch(name) and name in found]
        return held, len(wanted) - len(held)

    def hold(self, token: str | None, files: Sequence[Cleaned], now: datetime) -> list[HeldFile]:
        """Hold ``files`` for ``token``; the ones held (none past the bound or on a failure)."""
        token = valid_form_token(token)
        if token is None or not files:
            return []
        try:
            self.sweep(now)
            if self._held_bytes(now) + sum(len(file.data) for file in files) > self.bound:
                log.warning(
                    "lapor: the files held for forms sent back are at their bound (%d MB): a "
                    "form's files were not held and its reporter is asked to choose them again",
                    self.bound // (1024 * 1024),
                )
                return []
            return [self._hold(token, file, now) for file in files]
        except (HoldingUnavailableError, EvidenceError) as exc:
            log.warning("lapor: a form's files could not be held (%s)", exc)  # hashes only
            return []

    def take(self, token: str, files: Sequence[HeldFile]) -> list[StoredEvidence]:
        """Store the held ``files`` of ``token`` as evidence (they stay held until they expire).

        They stay held so that the same form sent twice (the button pressed twice) finds them.

        Raises:
            HoldingUnavailableError: a file is no longer in the store, or the store is down.
        """
        place = place_of(token)
        try:
            return [
                self.evidence.promote(place, file.sha256, file.media_type, file.size_bytes)
                for file in files
            ]
        except EvidenceError as exc:
            raise HoldingUnavailableError(str(exc)) from exc

    def sweep(self, now: datetime) -> int:
        """Delete the files held past their time, and their rows; how many were deleted.

        A file the store does not delete now keeps its row, to be deleted at the next sweep.

        Raises:
            HoldingUnavailableError: ``held.db`` cannot be used.
        """
        with self._transaction() as db:
            expired = db.execute(
                "SELECT place, sha256 FROM held WHERE expires_at <= ?", (_stamp(now),)
            ).fetchall()
        deleted = 0
        for place, sha256 in expired:
            try:
                self.evidence.discard(str(place), str(sha256))
            except EvidenceError as exc:
                log.warning("lapor: an expired held file stays until the next sweep (%s)", exc)
                continue
            with self._transaction() as db:
                db.execute("DELETE FROM held WHERE place = ? AND sha256 = ?", (place, sha256))
            deleted += 1
        return deleted

    def close(self) -> None:
        """Close ``held.db``."""
        self._store.close()

    def _hold(self, token: str, file: Cleaned, now: datetime) -> HeldFile:
        place = place_of(token)
        sha256 = self.evidence.hold(place, file.data)
        sealed = _seal(token, sha256, file.name)
        until = _stamp(now + self.lifetime)
        with self._transaction() as db:
            db.execute(
                "INSERT INTO held VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (place, sha256) "
                "DO UPDATE SET expires_at = excluded.expires_at",
                (place, sha256, file.media_type, len(file.data), sealed, until),
            )
        return HeldFile(sha256, file.media_type, len(file.data), file.name)

    def _held_bytes(self, now: datetime) -> int:
        with self._transaction() as db:
            row = db.execute(
                "SELECT COALESCE(SUM(size), 0) FROM held WHERE expires_at > ?", (_stamp(now),)
            ).fetchone()
        return int(row[0])

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._store.transaction()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _name_key(token: str) -> bytes:
    return hmac.new(token.encode(), _NAME_KEY, hashlib.sha256).digest()


def _seal(token: str, sha256: str, name: str) -> bytes:
    """The file's name, readable only with the form's token (which the store never keeps)."""
    nonce = os.urandom(12)
    return nonce + AESGCM(_name_key(token)).encrypt(nonce, name.encode(), sha256.encode())


def _open(token: str, sha256: str, sealed: bytes) -> str:
    """The name ``sealed``; ``""`` if it does not open (then the page shows no name)."""
    try:
        return AESGCM(_name_key(token)).decrypt(sealed[:12], sealed[12:], sha256.encode()).decode()
    except (InvalidTag, UnicodeDecodeError, ValueError):
        return ""
