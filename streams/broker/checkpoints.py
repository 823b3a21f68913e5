"""Where a reader has got to, kept in SQLite under ``KAWAL_HOME`` (mode 0600, folder 0700).

Each inbound connector keeps its position in its system here (:mod:`connectors.runtime`), and
``kawal dlq replay`` the dead letters it sent back, in a table of its own
(:mod:`streams.broker.replay_memory`). A connector's checkpoint is written only
after the events of every record up to it were acknowledged by the broker, so a connector
killed at any point resumes without losing a record; records read again after a crash yield
the same event ids, which the hub recognises as duplicates.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from streams.private_files import private_database


class CheckpointStore:
    """One checkpoint per connector name, durable across crashes (SQLite, WAL)."""

    def __init__(self, path: Path) -> None:
        # Private before SQLite opens it: positions name the records of institutions' systems.
        self._db = sqlite3.connect(
            private_database(path), isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS checkpoints ("
            "connector TEXT PRIMARY KEY, position TEXT NOT NULL, updated_at TEXT NOT NULL)"
        )

    def get(self, connector: str) -> str | None:
        """The stored checkpoint of ``connector``, or None before its first batch."""
        row = self._db.execute(
            "SELECT position FROM checkpoints WHERE connector = ?", (connector,)
        ).fetchone()
        return None if row is None else str(row[0])

    def put(self, connector: str, position: str) -> None:
        """Store ``position`` as the checkpoint of ``connector``."""
        self._db.execute(
            "INSERT INTO checkpoints (connector, position, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(connector) DO UPDATE SET position = excluded.position, "
            "updated_at = excluded.updated_at",
            (connector, position, datetime.now(UTC).isoformat()),
        )

    def close(self) -> None:
        """Close the database."""
        self._db.close()
