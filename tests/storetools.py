"""Audit stores of both dialects for the store contract suite, and chained rows to fill them."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from streams.audit.store import AuditStore
from streams.domain.chain import GENESIS_HASH, EntryFields, entry_hash
from tests.in_process import Done, kawal_here
from tests.postgres import PostgresServer

_databases = itertools.count()


def open_store(kind: str, tmp_path: Path, postgres: PostgresServer | None) -> AuditStore:
    """A fresh, migrated store: SQLite under ``tmp_path``, or a new PostgreSQL database.

    Each call gets a store of its own, so one test may open several (two histories of a hub).
    """
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / f'audit-{next(_databases)}.db'}"
    else:
        assert postgres is not None
        url = postgres.create_database(f"kawal_{next(_databases)}_{uuid.uuid4().hex[:6]}")
    store = AuditStore(url)
    store.create_schema()
    return store


def chained_rows(case_id: str, count: int, start: int = 1) -> list[dict[str, Any]]:
    """``count`` audit rows of one case forming a valid chain from seq ``start``."""
    return list(itertools.islice(_chain(case_id), start - 1, start - 1 + count))


def _chain(case_id: str) -> Iterator[dict[str, Any]]:
    prev = GENESIS_HASH
    for seq in itertools.count(1):
        fields = EntryFields(
            case_id=case_id,
            seq=seq,
            prev_hash=prev,
            recorded_at=datetime(2024, 11, 1, 8, 0, seq % 60, tzinfo=UTC),
            source_topic="kawal.inbound.bawaslu",
            source_partition=0,
            source_offset=seq,
            key_id="",
            signature=b"",
            event=f"{case_id}/{seq}".encode() * 3,
        )
        hashed = entry_hash(fields)
        yield vars(fields) | {
            "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{case_id}/{seq}")),
            "event_type": "ReportReceived" if seq == 1 else "CaseRegistered",
            "hash": hashed,
            "disclosures": "[]",
            "hub_key_id": "",
            "hub_signature": b"",
        }
        prev = hashed


def kawal_in(home: Path, *args: str) -> Done:
    """``kawal ARGS`` with ``KAWAL_HOME`` set to ``home``, in this process."""
    return kawal_here({"KAWAL_HOME": str(home)}, *args)
