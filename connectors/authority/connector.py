"""The recommending authority (KASN until its dissolution, BKN after) ⇄ Kawal, over its database.

Inbound, ``authority-outbox``: the authority's case-management system writes each decision its
staff take together with a row of its transactional ``outbox`` table, in one transaction, so a
decision exists if and only if its outbox row does. The connector reads rows with an id above
its checkpoint, in id order, and maps each kind to one shared event:
``recommendation.issued`` → ``RecommendationIssued``, ``clarification.requested`` →
``ClarificationRequested``, ``case.closed`` → ``CaseClosed``
(:mod:`connectors.authority.mapping`). Event ids derive from the case and the outbox id, so
reading a row again yields the same event. On PostgreSQL a row can commit after one with a
higher id is already visible, so the reader stops at a missing id and waits for it up to
``gap_grace_seconds`` before taking it as a rolled-back insert.

Rows of any other kind are dead-lettered (a kind the hub does not know yet is visible, never
silently dropped). Once the hub has a batch, its rows get ``published_at``; that mark is for
the authority's staff and its outbox clean-up: the connector resumes from its checkpoint.

Outbound, ``authority-status``: each entry of the authority's feed is stored in
``hub_case_events`` (keyed by event id, so a replay inserts nothing) and ``case_status`` keeps
the latest trail position of each case (updated only by a higher ``seq``, so an old entry
delivered late never hides a newer one).

Tables: :mod:`connectors.authority.database`. SQLite and PostgreSQL are supported.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import Field
from sqlalchemy import Engine, Insert, func, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite

from connectors.authority.database import CASE_STATUS, HUB_CASE_EVENTS, OUTBOX
from connectors.authority.mapping import OutboxMapper
from connectors.base import (
    ConnectorContext,
    Event,
    FeedEntry,
    InboundConnector,
    OutboundConnector,
    PermanentError,
    SourceRecord,
)
from connectors.feed_documents import json_value
from connectors.source_start import SourceStart
from connectors.sql import (
    DatabaseConfig,
    cause,
    outage_is_transient,
    row_dict,
)
from streams.sql_time import as_utc

log = logging.getLogger(__name__)

SYSTEM = "authority database"


class AuthorityDatabase(DatabaseConfig):
    """Where the authority's case-management database is."""

    example_file = "authority.db"


class OutboxConfig(AuthorityDatabase):
    """The outbox reader's settings."""

    gap_grace_seconds: float = Field(default=30.0, ge=0)
    """How long a missing outbox id is waited for before it is taken as a rolled-back insert.

    On PostgreSQL an id is drawn when a row is inserted but seen when its transaction commits,
    so a later id can be visible first; reading past the gap would skip the earlier row.
    """


class Outbox(InboundConnector[OutboxConfig]):
    """Decisions in the authority's outbox → ``RecommendationIssued``, ``CaseClosed``, ..."""

    name = "authority-outbox"

    def __init__(self, config: OutboxConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        self.engine = config.engine()
        self.mapper = OutboxMapper(self.institution, context.catalog, config.zone)
        self._gap: tuple[int, float] | None = None  # (first missing id, monotonic s first seen)
        self._start = SourceStart(self.name, "outbox")

    def read(self, after: str | None, limit: int) -> Sequence[SourceRecord]:
        """Up to ``limit`` outbox rows with an id above ``after``, stopping at a fresh id gap."""
        with outage_is_transient(SYSTEM), self.engine.connect() as connection:
            last = self._start.after(
                int(after) if after else 0,
                lambda: int(connection.execute(select(func.max(OUTBOX.c.id))).scalar() or 0),
            )
            query = select(OUTBOX).where(OUTBOX.c.id > last).order_by(OUTBOX.c.id).limit(limit)
            rows = [row_dict(row) for row in connection.execute(query)]
        records = []
        for row in rows:
            if row["id"] != last + 1 and not self._gap_expired(last + 1, row["id"]):
                break
            last = row["id"]
            records.append(
                SourceRecord(position=str(last), payload=row, source_id=f"outbox/{last}")
            )
        return records

    def _gap_expired(self, missing: int, found: int) -> bool:
        now = time.monotonic()
        if self._gap is None or self._gap[0] != missing:
            self._gap = (missing, now)
        if now - self._gap[1] < self.config.gap_grace_seconds:
            return False
        log.info("outbox ids %d-%d never appeared; taken as rolled back", missing, found - 1)
        self._gap = None
        return True

    def to_events(self, record: SourceRecord) -> list[Event]:
        """The one event an outbox row stands for.

        Raises:
            PermanentError: unknown kind, payload not a JSON object, a field missing or invalid,
                or no case reference. Reasons name fields, never their values.
        """
        return [self.mapper.event(record.payload, record.source_id)]

    def acknowledge(self, records: Sequence[SourceRecord]) -> None:
        """Mark the rows the hub now has (published or dead-lettered) with ``published_at``.

        Best effort: the checkpoint is already stored, so a failure only leaves marks unset.
        """
        ids = [record.payload["id"] for record in records]
        mark = (
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(ids), OUTBOX.c.published_at.is_(None))
            .values(published_at=datetime.now(UTC))
        )
        try:
            with self.engine.begin() as connection:
                connection.execute(mark)
        except sa_exc.SQLAlchemyError as exc:
            log.warning("could not mark %d outbox rows as published (%s)", len(ids), cause(exc))

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


class CaseStatus(OutboundConnector[AuthorityDatabase]):
    """The authority's feed → ``hub_case_events`` and ``case_status``."""

    name = "authority-status"

    def __init__(self, config: AuthorityDatabase, context: ConnectorContext) -> None:
        super().__init__(config, context)
        self.engine = config.engine()
        self._insert = _upsert_dialect(self.engine)

    def deliver(self, entry: FeedEntry) -> None:
        """Store the entry and move the case's status forward, in one transaction.

        Raises:
            TransientError: the database is down, locked or timed out.
            PermanentError: the database refused the write (e.g. its tables differ).
        """
        # In the database's zone: SQLite and PostgreSQL's timestamp without time zone keep
        # the wall time they are given.
        zone = self.config.zone
        now = datetime.now(zone)
        event_time = as_utc(entry.event["envelope"]["event_time"]).astimezone(zone)
        seq = int(entry.entry["seq"])
        stored = self._insert(HUB_CASE_EVENTS).values(
            event_id=entry.event_id,
            case_id=entry.case_id,
            seq=seq,
            event_type=entry.event_type,
            event_time=event_time,
            entry_hash=entry.entry["hash"],
            event_json=json.dumps(entry.event, default=json_value, sort_keys=True),
            delivered_at=now,
        )
        status = self._insert(CASE_STATUS).values(
            case_id=entry.case_id,
            seq=seq,
            event_id=entry.event_id,
            event_type=entry.event_type,
            event_time=event_time,
            updated_at=now,
        )
        newer = {
            column: status.excluded[column]
            for column in ("seq", "event_id", "event_type", "event_time", "updated_at")
        }
        try:
            with outage_is_transient(SYSTEM), self.engine.begin() as connection:
                # No target: the key of the table as the authority made it, (case_id,
                # event_id), or the event id alone in a table made before.
                connection.execute(stored.on_conflict_do_nothing())
                connection.execute(
                    status.on_conflict_do_update(
                        index_elements=["case_id"],
                        set_=newer,
                        where=CASE_STATUS.c.seq < status.excluded.seq,
                    )
                )
        except sa_exc.DBAPIError as exc:
            raise PermanentError(
                "database_refused",
                f"the authority database refused the write ({cause(exc)}); check that its "
                "hub_case_events and case_status tables match connectors.authority.database",
            ) from exc

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


def _upsert_dialect(engine: Engine) -> Callable[[Any], Any]:
    inserts: dict[str, Callable[[Any], Insert]] = {
        "sqlite": sqlite.insert,
        "postgresql": postgresql.insert,
    }
    return inserts[engine.dialect.name]


__all__ = ["AuthorityDatabase", "CaseStatus", "Outbox", "OutboxConfig"]
