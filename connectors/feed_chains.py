"""What an outbound connector has seen of each case's chain, so a forged entry cannot extend it.

A feed carries only the entries of the event types an institution's role consumes, so a
connector sees a case's chain with gaps. It keeps the hash of every entry it believed, by case
and sequence number (SQLite under ``KAWAL_HOME``, mode 0600), and refuses an entry whose
sequence number it saw with another hash (two histories: a fork) or whose ``prev_hash`` is not
the hash it saw just before (a break). Entries after a gap are believed on the hub's signature;
the signed tree heads (``kawal.heads``) cover the rest.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from streams.domain.entries import EntryProblem
from streams.private_files import private_database


class FeedChains:
    """The hashes of the entries a connector believed, per case and sequence number."""

    def __init__(self, path: Path | str) -> None:
        """Open (or create) the record at ``path`` (``":memory:"`` for a throwaway one)."""
        if isinstance(path, Path):
            private_database(path)  # case ids and hashes of what the institution was told
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS feed_chain ("
            "case_id TEXT NOT NULL, seq INTEGER NOT NULL, hash TEXT NOT NULL, "
            "PRIMARY KEY (case_id, seq))"
        )

    def _hash_at(self, case_id: str, seq: int) -> str | None:
        row = self._db.execute(
            "SELECT hash FROM feed_chain WHERE case_id = ? AND seq = ?", (case_id, seq)
        ).fetchone()
        return None if row is None else str(row[0])

    def problem(self, entry: dict[str, Any]) -> EntryProblem | None:
        """Why ``entry`` does not extend what was seen of its case; None when it does."""
        case_id, seq = entry["case_id"], entry["seq"]
        seen = self._hash_at(case_id, seq)
        if seen is not None and seen != entry["hash"]:
            return EntryProblem(
                "chain_fork", f"seq {seq} of this case was seen before with another hash"
            )
        before = self._hash_at(case_id, seq - 1)
        if before is not None and before != entry["prev_hash"]:
            return EntryProblem(
                "chain_break", f"prev_hash of seq {seq} is not the hash seen at seq {seq - 1}"
            )
        return None

    def record(self, entry: dict[str, Any]) -> None:
        """Remember a believed entry's hash."""
        self._db.execute(
            "INSERT OR IGNORE INTO feed_chain (case_id, seq, hash) VALUES (?, ?, ?)",
            (entry["case_id"], entry["seq"], entry["hash"]),
        )

    def close(self) -> None:
        """Close the record."""
        self._db.close()
