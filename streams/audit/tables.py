"""Tables of the audit store (SQLAlchemy 2 models); Alembic migrations create them.

``audit_entries`` holds the trails; ``case_heads`` the newest sequence number and hash of each
case, written in the same transaction as its entries, so a trail cut short at its end is
detected like any other gap; ``consumed_offsets`` the next offset of every topic partition a
writer (the audit sink, ``kawal replay``) has applied, committed with the rows it produced.
``tree_leaves`` places each entry in the hub's Merkle log, in the order the store took them, in
the same transaction as the entry; ``tree_heads`` holds the signed heads the sink published.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the audit store."""


class AuditRow(Base):
    """One entry of a case's trail, exactly as on ``kawal.case.audit``."""

    __tablename__ = "audit_entries"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    event_type: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    event: Mapped[bytes] = mapped_column(LargeBinary)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source_topic: Mapped[str] = mapped_column(String(255))
    source_partition: Mapped[int] = mapped_column(Integer)
    source_offset: Mapped[int] = mapped_column(BigInteger)
    #: Personal-data values behind the event's commitments (JSON list of field/salt/value).
    disclosures: Mapped[str] = mapped_column(Text, default="[]")
    #: The sender's key id and signature over ``event``.
    key_id: Mapped[str] = mapped_column(String(128), default="")
    signature: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    #: The hub's key id and signature over ``hash``.
    hub_key_id: Mapped[str] = mapped_column(String(128), default="")
    hub_signature: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


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
