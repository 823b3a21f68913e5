"""The vault of data keys: a random 256-bit key per case, stored wrapped under a KEK.

Every personal-data value of a case is sealed under that case's data key
(:mod:`streams.vault.at_rest`). :meth:`DataKeyVault.erase` destroys the key and leaves a
tombstone, which erases the case's personal data wherever it was sealed (topics, the audit
store, dead letters, files) while every commitment, chain and signature still verifies; and
the case never gets a key again, so nothing new can be sealed for it.

:meth:`DataKeyVault.keys_for` answers :class:`Erased` for an erased case, never a key: the
type of its answer, ``bytes | Erased``, makes a caller (mypy strict) handle erased cases
before it can seal anything under the answer.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Row, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from streams.vault.database import (
    VaultError,
    check_exists,
    create_schema,
    failure,
    scrub,
    vault_engine,
)
from streams.vault.dek_cache import DEFAULT_CAPACITY, DekCache
from streams.vault.kek import KeyWrapper, WrappedKey
from streams.vault.tables import CaseDataKey

__all__ = ["DataKeyVault", "Erased", "Erasure", "VaultError"]

#: Case ids per ``IN (...)`` query, well under every dialect's limit of bound parameters.
READ_CHUNK = 500
#: Data keys rewrapped per transaction by :meth:`DataKeyVault.rewrap`.
REWRAP_BATCH = 500
#: Length of a case id (a UUID) and of an erasure's reason.
CASE_ID_MAX = 36
REASON_MAX = 500

#: A row as read: case id, KEK id, wrapped key, erased at, erase reason.
_KeyRow = Row[str, str | None, bytes | None, datetime | None, str | None]
_COLUMNS = (
    CaseDataKey.case_id,
    CaseDataKey.kek_id,
    CaseDataKey.wrapped_key,
    CaseDataKey.erased_at,
    CaseDataKey.erase_reason,
)


@dataclass(frozen=True)
class Erased:
    """What :meth:`DataKeyVault.keys_for` answers for an erased case: when and why, no key."""

    erased_at: datetime
    reason: str


class Erasure(enum.Enum):
    """What :meth:`DataKeyVault.erase` did."""

    #: The case's data key was destroyed; a tombstone stands in its place.
    ERASED = "erased"
    #: The case was erased before; nothing changed.
    ALREADY_ERASED = "already erased"
    #: The case had no data key; the tombstone now keeps one from ever being made.
    NO_KEY = "no key"


@dataclass(frozen=True)
class _Stored:
    """One row of ``case_data_keys`` as read: the wrapped key, or the erasure."""

    case_id: str
    key: WrappedKey | Erased


class DataKeyVault:
    """The cases' data keys in the database at ``url``, wrapped by ``kek_ring``.

    Args:
        url: SQLAlchemy URL (``KAWAL_VAULT_URL``; SQLite or PostgreSQL).
        kek_ring: what wraps and unwraps: a :class:`~streams.vault.kek.KekRing`, or a KMS.
        cache_capacity: data keys kept unwrapped in memory (least recently used dropped).
    """

    def __init__(
        self, url: str, kek_ring: KeyWrapper, *, cache_capacity: int = DEFAULT_CAPACITY
    ) -> None:
        self.url = url
        self.ring = kek_ring
        self.engine = vault_engine(url)
        self._cache = DekCache(cache_capacity)

    @classmethod
    def open_existing(cls, url: str, kek_ring: KeyWrapper) -> DataKeyVault:
        """The vault at ``url``; never makes one (an empty vault would look like no keys).

        Raises:
            VaultError: nothing at ``url``, no vault table there, or an unreachable database.
        """
        vault = cls(url, kek_ring)
        try:
            check_exists(url, vault.engine)
        except VaultError:
            vault.close()
            raise
        return vault

    def create_schema(self) -> None:
        """Create or migrate the vault's table (Alembic, its own version table).

        Raises:
            VaultError: the schema could not be made.
        """
        create_schema(self.engine)

    def keys_for(self, case_ids: Iterable[str], *, create: bool) -> dict[str, bytes | Erased]:
        """The data keys of ``case_ids``, unwrapped; :class:`Erased` for an erased case.

        The worker calls this once per batch, with ``create=True``, before it publishes
        anything sealed under the keys: the missing keys are made, wrapped and stored in one
        transaction. Two processes (or a batch delivered twice) making the same case's key at
        once insert one row, and both return its key. Readers pass ``create=False``: a case
        without a key is then absent from the answer.

        Raises:
            VaultError: a case id is not 1 to 36 characters, or the vault cannot be reached.
            KekError: a stored key does not unwrap (its KEK is not in the ring, or it was
                altered or moved from another case).
        """
        wanted = _checked_ids(case_ids)
        stored = self._read(wanted)
        missing = [case_id for case_id in wanted if case_id not in stored]
        if create and missing:
            stored |= self._create(missing)
        return {case_id: self._key_of(stored[case_id]) for case_id in wanted if case_id in stored}

    def erase(self, case_id: str, reason: str) -> Erasure:
        """Destroy the data key of ``case_id`` and keep a tombstone: when, and ``reason``.

        A case without a key gets the tombstone too, so no key is ever made for it. On SQLite
        the key's bytes are overwritten in the file and gone from the write-ahead log when
        this returns; PostgreSQL keeps them in a dead tuple until the table is vacuumed.

        Raises:
            VaultError: an invalid case id, an empty or overlong reason, or the vault
                cannot be written.
        """
        [case_id] = _checked_ids([case_id])
        reason = _checked_reason(reason)
        try:
            with self.engine.begin() as conn:
                outcome = _tombstone(conn, case_id, reason, datetime.now(UTC))
        except SQLAlchemyError as exc:
            raise failure("write", exc) from exc
        self._cache.evict(case_id)
        if outcome is Erasure.ERASED:
            scrub(self.engine)
        return outcome

    def tombstone(self, case_id: str) -> Erased | None:
        """When and why ``case_id`` was erased; None while its key lives or it has none."""
        return self.tombstones([case_id]).get(case_id)

    def tombstones(self, case_ids: Sequence[str]) -> dict[str, Erased]:
        """The erased of ``case_ids`` by case, from their rows (no KEK); VaultError if unread."""
        stored = self._read(_checked_ids(list(case_ids)))
        return {case: row.key for case, row in stored.items() if isinstance(row.key, Erased)}

    def rewrap(self, kek_ring: KeyWrapper | None = None, *, batch: int = REWRAP_BATCH) -> int:
        """Wrap every live data key under ``kek_ring``'s current KEK (KEK rotation).

        ``kek_ring`` (default: the vault's own) must still hold the KEKs the keys are wrapped
        under; it becomes the vault's ring. Keys go ``batch`` to a transaction; a key erased
        or rewrapped by another process meanwhile is left as that process left it. Running it
        again after an interruption goes on where it stopped.

        Returns:
            How many data keys were rewrapped.

        Raises:
            KekError: a key is wrapped under a KEK not in ``kek_ring``, or does not unwrap.
            VaultError: the vault cannot be read or written.
        """
        ring = kek_ring or self.ring
        moved = 0
        for rows in self._not_under(ring.current_id, batch):
            moved += self._rewrap_rows(ring, rows)
        self.ring = ring
        if moved:
            scrub(self.engine)
        return moved

    def keys_per_kek(self) -> dict[str, int]:
        """How many live data keys each KEK id wraps (``kawal kek list``)."""
        query = (
            select(CaseDataKey.kek_id, func.count())
            .where(CaseDataKey.erased_at.is_(None))
            .group_by(CaseDataKey.kek_id)
        )
        try:
            with self.engine.connect() as conn:
                return {str(kek_id): int(count) for kek_id, count in conn.execute(query)}
        except SQLAlchemyError as exc:
            raise failure("read", exc) from exc

    def answers(self) -> None:
        """Ask the vault's database a trivial query (the worker's check, ``kawal_vault_up``).

        Raises:
            VaultError: the database does not answer (down, dropped, unreachable).
        """
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
        except SQLAlchemyError as exc:
            raise failure("reach", exc) from exc

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    def _read(self, case_ids: Sequence[str]) -> dict[str, _Stored]:
        try:
            with self.engine.connect() as conn:
                return _select(conn, case_ids)
        except SQLAlchemyError as exc:
            raise failure("read", exc) from exc

    def _create(self, case_ids: Sequence[str]) -> dict[str, _Stored]:
        """Make, wrap and insert keys for ``case_ids`` unless present; read back what is."""
        now = datetime.now(UTC)
        fresh = {case_id: AESGCM.generate_key(bit_length=256) for case_id in case_ids}
        wrapped = {case_id: self.ring.wrap(case_id, dek) for case_id, dek in fresh.items()}
        values = [
            {
                "case_id": case_id,
                "kek_id": key.kek_id,
                "wrapped_key": key.wrapped,
                "created_at": now,
            }
            for case_id, key in wrapped.items()
        ]
        try:
            # The insert takes SQLite's write lock first, so the read after it sees every key
            # committed elsewhere; the rows it returns are ours, only the others are read back.
            with self.engine.begin() as conn:
                insert = _insert(conn).on_conflict_do_nothing().returning(CaseDataKey.case_id)
                ours = set(conn.execute(insert, values).scalars())
                stored = {case_id: _Stored(case_id, wrapped[case_id]) for case_id in ours}
                stored |= _select(conn, [case_id for case_id in case_ids if case_id not in ours])
        except SQLAlchemyError as exc:
            raise failure("write", exc) from exc
        for case_id, row in stored.items():
            if row.key == wrapped[case_id]:
                # Ours won: no need to unwrap what was just wrapped.
                self._cache.put(case_id, wrapped[case_id], fresh[case_id])
        return stored

    def _key_of(self, row: _Stored) -> bytes | Erased:
        if isinstance(row.key, Erased):
            self._cache.evict(row.case_id)
            return row.key
        dek = self._cache.get(row.case_id, row.key)
        if dek is None:
            dek = self.ring.unwrap(row.case_id, row.key)
            self._cache.put(row.case_id, row.key, dek)
        return dek

    def _not_under(self, kek_id: str, batch: int) -> Iterator[list[tuple[str, WrappedKey]]]:
        """Live keys not wrapped under ``kek_id``, ``batch`` at a time, in case id order."""
        after = ""
        while True:
            query = (
                select(*_COLUMNS)
                .where(CaseDataKey.erased_at.is_(None))
                .where(CaseDataKey.kek_id != kek_id)
                .where(CaseDataKey.case_id > after)
                .order_by(CaseDataKey.case_id)
                .limit(batch)
            )
            try:
                with self.engine.connect() as conn:
                    rows = [(row.case_id, _wrapped(row)) for row in conn.execute(query)]
            except SQLAlchemyError as exc:
                raise failure("read", exc) from exc
            if not rows:
                return
            yield rows
            after = rows[-1][0]

    def _rewrap_rows(self, ring: KeyWrapper, rows: Sequence[tuple[str, WrappedKey]]) -> int:
        # Unwrapped and wrapped before the transaction: a KEK missing fails it before it writes.
        changes = []
        for case_id, old in rows:
            dek = ring.unwrap(case_id, old)
            changes.append((case_id, old, ring.wrap(case_id, dek), dek))
        moved = 0
        try:
            with self.engine.begin() as conn:
                for case_id, old, new, _dek in changes:
                    moved += _replace_wrapped(conn, case_id, old, new)
        except SQLAlchemyError as exc:
            raise failure("write", exc) from exc
        for case_id, _old, new, dek in changes:
            self._cache.put(case_id, new, dek)
        return moved


def _checked_ids(case_ids: Iterable[str]) -> list[str]:
    """``case_ids`` without repeats, in order; each a string of 1 to 36 characters."""
    wanted = list(dict.fromkeys(case_ids))
    for case_id in wanted:
        if not isinstance(case_id, str) or not 0 < len(case_id) <= CASE_ID_MAX:
            raise VaultError(f"a case id is a string of 1 to {CASE_ID_MAX} characters")
    return wanted


def _checked_reason(reason: str) -> str:
    reason = reason.strip()
    if not 0 < len(reason) <= REASON_MAX:
        raise VaultError(
            f"an erasure needs a reason of 1 to {REASON_MAX} characters (kept with the "
            "tombstone; never personal data)"
        )
    return reason


def _insert(conn: Connection) -> postgresql.Insert | sqlite.Insert:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(CaseDataKey)
    return sqlite.insert(CaseDataKey)


def _select(conn: Connection, case_ids: Sequence[str]) -> dict[str, _Stored]:
    stored: dict[str, _Stored] = {}
    for start in range(0, len(case_ids), READ_CHUNK):
        chunk = case_ids[start : start + READ_CHUNK]
        query = select(*_COLUMNS).where(CaseDataKey.case_id.in_(chunk))
        stored |= {row.case_id: _stored(row) for row in conn.execute(query)}
    return stored


def _stored(row: _KeyRow) -> _Stored:
    case_id, _kek_id, _wrapped_key, erased_at, reason = row
    if erased_at is not None:
        return _Stored(case_id, Erased(erased_at, reason or ""))
    return _Stored(case_id, _wrapped(row))


def _wrapped(row: _KeyRow) -> WrappedKey:
    case_id, kek_id, wrapped_key, _erased_at, _reason = row
    if kek_id is None or wrapped_key is None:
        # The table's check constraint rules this out; a hand-edited row could still try.
        raise VaultError(f"the vault's row of case {case_id} is neither live nor erased")
    return WrappedKey(kek_id, bytes(wrapped_key))


def _tombstone(conn: Connection, case_id: str, reason: str, now: datetime) -> Erasure:
    if _erase_live(conn, case_id, reason, now):
        return Erasure.ERASED
    tombstone = {"case_id": case_id, "created_at": now, "erased_at": now, "erase_reason": reason}
    statement = _insert(conn).values(tombstone).on_conflict_do_nothing()
    if conn.execute(statement.returning(CaseDataKey.case_id)).first() is not None:
        return Erasure.NO_KEY
    # Another process made the case's key between the two statements: erase that one.
    return Erasure.ERASED if _erase_live(conn, case_id, reason, now) else Erasure.ALREADY_ERASED


def _erase_live(conn: Connection, case_id: str, reason: str, now: datetime) -> bool:
    statement = (
        update(CaseDataKey)
        .where(CaseDataKey.case_id == case_id, CaseDataKey.erased_at.is_(None))
        .values(kek_id=None, wrapped_key=None, erased_at=now, erase_reason=reason)
    )
    return conn.execute(statement).rowcount == 1


def _replace_wrapped(conn: Connection, case_id: str, old: WrappedKey, new: WrappedKey) -> int:
    """Store ``new`` if the row still holds ``old`` (not erased or rewrapped meanwhile)."""
    statement = (
        update(CaseDataKey)
        .where(
            CaseDataKey.case_id == case_id,
            CaseDataKey.erased_at.is_(None),
            CaseDataKey.kek_id == old.kek_id,
            CaseDataKey.wrapped_key == old.wrapped,
        )
        .values(kek_id=new.kek_id, wrapped_key=new.wrapped)
    )
    return int(conn.execute(statement).rowcount)
