"""The hub's Merkle log in the audit store: a leaf per entry, and the heads issued over them.

Leaf *i* holds the hash of the *i*-th entry the store took (:mod:`streams.domain.merkle`);
:meth:`streams.audit.store.AuditStore.insert` places new entries in the transaction that
stores them, so the hub never stores an entry without its leaf nor a leaf without its entry.
A leaf names its entry by case and seq and holds no copy of the hash: the tree is computed
from the entries themselves, so an entry rewritten in place changes the root, and a kept head
no longer matches.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import Connection, Engine, RowMapping, and_, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from streams.audit.store import StoreError
from streams.audit.tables import AuditRow, TreeHeadRow, TreeLeaf
from streams.domain.chain import EPOCH, epoch_millis
from streams.domain.merkle import MerkleLog
from streams.domain.tree_heads import SignedTreeHead
from streams.sql_engines import driver_said

#: Leaves read from the database at a time.
LEAF_CHUNK = 5_000

_T = TypeVar("_T")


class TreeError(StoreError):
    """The store's log cannot give a tree the hub may sign: a leaf lacks its entry."""


@dataclass(frozen=True)
class Leaf:
    """One leaf and the hash of the entry it holds (None when that entry is gone)."""

    log_index: int
    case_id: str
    seq: int
    hash: str | None


class TreeLog:
    """Reads of the log and the heads, and the one write of a head."""

    def __init__(self, engine: Engine) -> None:
        """The log in the store behind ``engine``."""
        self.engine = engine

    def size(self) -> int:
        """Number of leaves.

        Raises:
            StoreError: the store cannot be read.
        """
        query = select(func.count()).select_from(TreeLeaf)
        return int(self._read(lambda conn: conn.execute(query).scalar_one()))

    def leaves(self, start: int = 0) -> Generator[Leaf, None, None]:
        """Every leaf from index ``start`` on, in order, with its entry's hash."""
        query = (
            select(TreeLeaf.log_index, TreeLeaf.case_id, TreeLeaf.seq, AuditRow.hash)
            .outerjoin(
                AuditRow, and_(AuditRow.case_id == TreeLeaf.case_id, AuditRow.seq == TreeLeaf.seq)
            )
            .where(TreeLeaf.log_index >= start)
            .order_by(TreeLeaf.log_index)
        )
        try:
            with self.engine.connect() as conn:
                result = conn.execution_options(yield_per=LEAF_CHUNK).execute(query)
                try:
                    for row in result:
                        yield Leaf(*row)
                finally:
                    # A reader that stops early must not leave PostgreSQL's cursor open.
                    result.close()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read the audit store: {driver_said(exc)}") from exc

    def sync(self, log: MerkleLog) -> None:
        """Append to ``log`` the leaves the store holds beyond it.

        Raises:
            TreeError: a leaf is missing or holds an entry that is gone; the hub must not
                sign such a tree.
            StoreError: the store cannot be read.
        """
        # Closed at once when a bad leaf stops the loop: PostgreSQL's server-side cursor too.
        with closing(self.leaves(len(log))) as leaves:
            for leaf in leaves:
                if leaf.log_index != len(log):
                    raise TreeError(f"the store's log has no leaf {len(log)}: leaves were deleted")
                if leaf.hash is None:
                    raise TreeError(
                        f"leaf {leaf.log_index} holds an entry (case {leaf.case_id} seq "
                        f"{leaf.seq}) that is no longer in the store"
                    )
                log.append(bytes.fromhex(leaf.hash))

    def entries_outside(self) -> int:
        """Number of entries in no leaf: written around the store's insert."""
        query = (
            select(func.count())
            .select_from(AuditRow)
            .outerjoin(
                TreeLeaf, and_(AuditRow.case_id == TreeLeaf.case_id, AuditRow.seq == TreeLeaf.seq)
            )
            .where(TreeLeaf.log_index.is_(None))
        )
        return int(self._read(lambda conn: conn.execute(query).scalar_one()))

    def leaf_of(self, case_id: str, seq: int) -> int | None:
        """The index of the leaf holding entry ``(case_id, seq)``, if there is one."""
        query = select(TreeLeaf.log_index).where(TreeLeaf.case_id == case_id, TreeLeaf.seq == seq)
        found = self._read(lambda conn: conn.execute(query).scalar_one_or_none())
        return None if found is None else int(found)

    def latest_head(self) -> SignedTreeHead | None:
        """The largest head issued, if any."""
        query = select(TreeHeadRow).order_by(TreeHeadRow.tree_size.desc()).limit(1)
        rows = self._read(lambda conn: conn.execute(query).mappings().all())
        return _head(rows[0]) if rows else None

    def head_of_size(self, tree_size: int) -> SignedTreeHead | None:
        """The head issued over the first ``tree_size`` leaves, if the hub issued one."""
        query = select(TreeHeadRow).where(TreeHeadRow.tree_size == tree_size)
        rows = self._read(lambda conn: conn.execute(query).mappings().all())
        return _head(rows[0]) if rows else None

    def store_head(self, head: SignedTreeHead) -> None:
        """Record an issued head.

        Raises:
            StoreError: the store cannot be written, or holds a head of that size already.
        """
        row = {
            "tree_size": head.tree_size,
            "root_hash": head.root_hash.hex(),
            "issued_at_ms": epoch_millis(head.issued_at),
            "key_id": head.key_id,
            "signature": head.signature,
            "previous_size": head.previous_size,
            "consistency": json.dumps([item.hex() for item in head.consistency]),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(TreeHeadRow), [row])
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot store a tree head: {driver_said(exc)}") from exc

    def _read(self, query: Callable[[Connection], _T]) -> _T:
        try:
            with self.engine.connect() as conn:
                return query(conn)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read the audit store: {driver_said(exc)}") from exc


def _head(row: RowMapping) -> SignedTreeHead:
    return SignedTreeHead(
        tree_size=row["tree_size"],
        root_hash=bytes.fromhex(row["root_hash"]),
        issued_at=EPOCH + timedelta(milliseconds=row["issued_at_ms"]),
        key_id=row["key_id"],
        signature=row["signature"],
        previous_size=row["previous_size"],
        consistency=tuple(bytes.fromhex(item) for item in json.loads(row["consistency"])),
    )
