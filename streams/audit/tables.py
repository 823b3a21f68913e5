"""Tables of the audit store (SQLAlchemy 2 models); Alembic migrations create them.

``audit_entries`` holds the trails; ``case_heads`` the newest sequence number and hash of each
case, written in the same transaction as its entries, so a trail cut short at its end is
detected like any other gap; ``consumed_offsets`` the next offset of every topic partition a
writer (the audit sink, ``kawal replay``) has applied, committed with the rows it produced.
``api_tokens`` holds the hashes of the bearer tokens HTTP readers present, and ``access_log``
one row per response that showed personal data (field names only, never a value).
``tree_leaves`` places each entry in the hub's Merkle log, in the order the store took them, in
the same transaction as the entry; ``tree_heads`` holds the signed heads the sink published.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    cast,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from streams.sql_time import UtcDateTime


class Base(DeclarativeBase):
    """Declarative base of the audit store."""


class StoredBytes(TypeDecorator[bytes]):
    """``LargeBinary`` read back as the bytes stored, whatever SQLite's storage class.

    SQLite keeps any value in any column: a row edited outside the hub with a string function
    (``event || '...'``, ``replace(...)``) holds TEXT where the hub wrote a BLOB, which the
    sqlite3 module decodes as UTF-8 (failing on anything else) or returns as ``str``, and the
    verifier stopped on it. Selecting ``CAST(column AS BLOB)`` gives the stored bytes either
    way, so such an edit is found as an entry that does not verify. PostgreSQL's ``bytea``
    holds bytes only; the cast changes nothing there.
    """

    impl = LargeBinary
    cache_ok = True

    def column_expression(self, colexpr: ColumnElement[bytes]) -> ColumnElement[bytes]:
        """The column as selected: cast to the binary type."""
        return cast(colexpr, LargeBinary)


class StoredMoment(UtcDateTime):
    """:class:`UtcDateTime` that reads a value no moment parses from as None, not an error.

    SQLite keeps a moment as text: an edit outside the hub can leave text that does not parse,
    a number or bytes, and SQLAlchemy's parser raised, quoting the value, so one edited row
    stopped every reader of the trail. Read as None, it is found as an entry edited outside
    the hub (:mod:`streams.audit.row_shapes`).
    """

    cache_ok = True

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None] | None:
        """The processor of :class:`UtcDateTime`, giving None where it would raise."""
        read = super().result_processor(dialect, coltype)
        if read is None:
            return None
        strict = read

        def lenient(value: Any) -> datetime | None:
            try:
                return strict(value)
            except (ValueError, TypeError):
                return None

        return lenient


class AuditRow(Base):
    """One entry of a case's trail, exactly as on ``kawal.case.audit``."""

    __tablename__ = "audit_entries"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    event_type: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    event: Mapped[bytes] = mapped_column(StoredBytes)
    recorded_at: Mapped[datetime] = mapped_column(StoredMoment)
    source_topic: Mapped[str] = mapped_column(String(255))
    source_partition: Mapped[int] = mapped_column(Integer)
    source_offset: Mapped[int] = mapped_column(BigInteger)
    #: Personal-data values in clear (JSON list of field/salt/value): entries of signing
    #: format 1 only; since format 2 always ``[]``.
    disclosures: Mapped[str] = mapped_column(Text, default="[]")
    #: The values behind the event's commitments, under the case's data key
    #: (:mod:`streams.vault.entries`); empty once erased or without personal data.
    vaulted_disclosures: Mapped[bytes] = mapped_column(StoredBytes, default=b"")
    #: The sender's key id and signature over ``event``.
    key_id: Mapped[str] = mapped_column(String(128), default="")
    signature: Mapped[bytes] = mapped_column(StoredBytes, default=b"")
    #: The hub's key id and signature over ``hash``.
    hub_key_id: Mapped[str] = mapped_column(String(128), default="")
    hub_signature: Mapped[bytes] = mapped_column(StoredBytes, default=b"")


class CaseHead(Base):
    """The newest entry of a case, as the writer last stored it."""

    __tablename__ = "case_heads"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class ConsumedOffset(Base):
    """Next offset to apply of one topic partition, per writer."""

    __tablename__ = "consumed_offsets"

    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    topic: Mapped[str] = mapped_column(String(255), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_offset: Mapped[int] = mapped_column(BigInteger)


class ApiToken(Base):
    """A bearer token of an HTTP reader: only the hash of its secret is kept."""

    __tablename__ = "api_tokens"

    #: Public handle (``kawal token list``, ``revoke``); not a secret.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: The institution id, or the operator's name.
    principal: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    #: SHA-256 of the secret, hex (see :mod:`streams.audit.tokens` for why not a slow hash).
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class AccessLogRow(Base):
    """One read that showed personal data: who, which case, which fields, when, where."""

    __tablename__ = "access_log"
    __table_args__ = (UniqueConstraint("prev_hash", name="uq_access_log_prev_hash"),)

    # SQLite numbers rows by itself only for an INTEGER primary key.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    read_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    principal: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    #: The token id, or ``oidc:`` and the JWT's subject.
    credential: Mapped[str] = mapped_column(String(160))
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    #: JSON list of the personal-data field names shown (names only, never values).
    fields: Mapped[str] = mapped_column(Text)
    #: The request path, or the command for a read on the command line.
    path: Mapped[str] = mapped_column(String(512))
    #: The chain (:mod:`streams.audit.access_chain`): the hash of the row before, unique so
    #: two writers cannot both extend one row; this row's hash; the hub's key and signature.
    #: None in rows written before the chain began.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(128))
    signature: Mapped[bytes | None] = mapped_column(StoredBytes)


class TreeLeaf(Base):
    """One leaf of the hub's Merkle log: which entry it holds (its data is the entry's hash)."""

    __tablename__ = "tree_leaves"
    # One leaf per entry, so a batch applied twice places nothing twice.
    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_tree_leaves_entry"),)

    #: 0-based position in the log, without gaps.
    log_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    case_id: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(BigInteger)


class TreeHeadRow(Base):
    """A signed tree head the audit sink issued, with its proof from the one before."""

    __tablename__ = "tree_heads"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[str] = mapped_column(String(64))
    #: Milliseconds since the Unix epoch, UTC: exactly what the signature covers.
    issued_at_ms: Mapped[int] = mapped_column(BigInteger)
    key_id: Mapped[str] = mapped_column(String(128))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    previous_size: Mapped[int] = mapped_column(BigInteger)
    #: The consistency proof from ``previous_size``: hex hashes, JSON list.
    consistency: Mapped[str] = mapped_column(Text)
