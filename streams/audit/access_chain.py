"""The access log as a chain the hub signs, so a read record deleted or changed is seen.

The record of processing the PDP Law asks for is only worth what it is worth to whoever holds
the database. So each row holds the hash of the row written before it (``prev_hash``; the
first row :data:`GENESIS`), its own hash over its columns and that predecessor, and the hub's
signature of that hash (:attr:`streams.domain.signing.Context.ACCESS`). A row edited no longer
has its hash; a row deleted leaves the next one naming a hash no row has; a row written around
the hub has no signature its key registry verifies; and ``prev_hash`` is unique, so two writers
cannot both extend the same row: the second writes again after the first.

Whoever holds the store but not the hub's signing key can therefore delete only the newest rows
unseen (nothing comes after them to name them). Rows written before the chain began (migration
``0007``) hold no hash and are counted, not checked.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, RowMapping, select

from streams.audit.log_rows import hash_bytes
from streams.audit.tables import AccessLogRow
from streams.domain.chain import epoch_millis
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.key_entries import KeyRefusal
from streams.domain.keys import KeyRegistry
from streams.domain.signing import Context, SigningKey, verify

#: The ``prev_hash`` of the first row of the chain.
GENESIS = "0" * 64
#: Rows read from the database at a time.
CHUNK = 5_000


def row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """The hash of an access-log row: SHA-256 of its context and canonical JSON, hex.

    The JSON array holds, in order: ``prev_hash``, ``read_at`` in milliseconds since the epoch,
    ``principal``, ``role``, ``credential``, ``case_id``, ``fields`` (the stored JSON text) and
    ``path``, compact and in UTF-8 (docs/operations.md, "The access log").
    """
    columns = [
        prev_hash,
        epoch_millis(row["read_at"]),
        row["principal"],
        row["role"],
        row["credential"],
        row["case_id"],
        row["fields"],
        row["path"],
    ]
    text = json.dumps(columns, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(Context.ACCESS.value + b"\x00" + text.encode()).hexdigest()


def chained(row: dict[str, Any], prev_hash: str, key: SigningKey) -> dict[str, Any]:
    """``row`` with its place in the chain after ``prev_hash`` and the hub's signature."""
    digest = row_hash(prev_hash, row)
    signature = key.sign(Context.ACCESS, bytes.fromhex(digest))
    return row | {
        "prev_hash": prev_hash,
        "hash": digest,
        "key_id": key.key_id,
        "signature": signature,
    }


@dataclass(frozen=True)
class AccessFinding:
    """One break of the chain: which row, and what is wrong there (no value of the row)."""

    code: str
    row_id: int
    detail: str


@dataclass
class AccessChainReport:
    """The access log checked row by row."""

    chained: int = 0
    #: Rows from before the chain began, which hold no hash.
    before_chain: int = 0
    findings: list[AccessFinding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every chained row is as the hub wrote and signed it, none missing between."""
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        """The report for scripts."""
        return {
            "chained": self.chained,
            "before_chain": self.before_chain,
            "verified": self.ok,
            "findings": [vars(finding) for finding in self.findings],
        }


def verify_access_chain(engine: Engine, keys: KeyRegistry) -> AccessChainReport:
    """Every row of the access log against its hash, its predecessor and the hub's key.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the store cannot be read.
    """
    report = AccessChainReport()
    last: str | None = None
    for row in _rows(engine):
        if row["hash"] is None:
            if last is None:
                report.before_chain += 1
            else:
                report.findings.append(
                    _finding("unchained", row, "holds no hash: written around the hub")
                )
            continue
        report.chained += 1
        report.findings += _problems(row, GENESIS if last is None else last, keys)
        last = row["hash"]
    return report


def _rows(engine: Engine) -> Iterator[RowMapping]:
    query = select(AccessLogRow).order_by(AccessLogRow.id)
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=CHUNK).execute(query)
        try:
            yield from result.mappings()
        finally:
            result.close()


def _problems(row: RowMapping, expected_prev: str, keys: KeyRegistry) -> list[AccessFinding]:
    """What is wrong with one chained row, coming after a row of hash ``expected_prev``."""
    found = []
    if row["prev_hash"] != expected_prev:
        found.append(
            _finding(
                "rows_missing",
                row,
                "names a predecessor no row before it has: rows before it were deleted",
            )
        )
    if row_hash(str(row["prev_hash"]), dict(row)) != row["hash"]:
        found.append(_finding("row_changed", row, "does not have its hash: it was changed"))
    signature_problem = _signature_problem(row, keys)
    if signature_problem is not None:
        found.append(_finding("signature_invalid", row, signature_problem))
    return found


def _signature_problem(row: RowMapping, keys: KeyRegistry) -> str | None:
    read_at: datetime = row["read_at"]
    digest = hash_bytes(row["hash"])
    if digest is None:
        return "its hash is not a SHA-256 in hex, which the hub never writes"
    key = keys.key_for(HUB_INSTITUTION, str(row["key_id"]), read_at)
    if isinstance(key, KeyRefusal):
        return f"its signing key vouches for nothing at {read_at.isoformat()}: {key.detail}"
    signature = row["signature"]
    if not isinstance(signature, bytes) or not verify(
        key.public_key, Context.ACCESS, digest, signature
    ):
        return f"the hub's key {key.id} did not sign it"
    return None


def _finding(code: str, row: RowMapping, what: str) -> AccessFinding:
    return AccessFinding(code, int(row["id"]), f"access-log row {row['id']} {what}")
