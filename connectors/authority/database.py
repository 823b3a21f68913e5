"""The tables the authority connectors share with the authority's database, and how to reach it.

The authority's DBA applies :data:`METADATA` (``METADATA.create_all(engine)`` or the equivalent
DDL): ``outbox`` is written by the authority's own system, ``hub_case_events`` and
``case_status`` only by the ``authority-status`` connector. Every timestamp is UTC; SQLite
keeps none of a zone, so a naive value read back is taken as UTC.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

#: An id column: BIGINT on PostgreSQL, INTEGER on SQLite (only that one auto-increments there).
BigId = BigInteger().with_variant(Integer(), "sqlite")

METADATA = MetaData()

OUTBOX = Table(
    "outbox",
    METADATA,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_kind", String(64), nullable=False, doc="e.g. 'recommendation.issued'."),
    Column("reported_by", String(64), doc="Institution that first reported the case."),
    Column("case_number", String(128), doc="That institution's own case number."),
    Column("payload", Text, nullable=False, doc="JSON object; fields depend on event_kind."),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), doc="Set once the hub has the row."),
    # Ids are never reused after a delete, so a checkpoint never skips a new row.
    sqlite_autoincrement=True,
)

HUB_CASE_EVENTS = Table(
    "hub_case_events",
    METADATA,
    # An event id is unique within its case only: the hub refuses it again there, not in
    # another case, where a sender's defect may reuse it.
    Column("event_id", String(36), primary_key=True),
    Column("case_id", String(36), primary_key=True, index=True),
    Column("seq", BigInteger, nullable=False, doc="Position in the case's trail (1-based)."),
    Column("event_type", String(64), nullable=False),
    Column("event_time", DateTime(timezone=True), nullable=False),
    Column("entry_hash", String(64), nullable=False, doc="Hex SHA-256 of the trail entry."),
    Column("event_json", Text, nullable=False, doc="The event as disclosed to the authority."),
    Column("delivered_at", DateTime(timezone=True), nullable=False),
)

CASE_STATUS = Table(
    "case_status",
    METADATA,
    Column("case_id", String(36), primary_key=True),
    Column("seq", BigInteger, nullable=False, doc="Trail position of the latest event."),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("event_time", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
