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
import threading
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Connection, Engine, RowMapping, and_, delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from streams.audit.log_rows import hash_bytes, head_of_row
from streams.audit.row_shapes import EDITED, case_label, is_number, kind_of
from streams.audit.store import StoreError
from streams.audit.store_errors import cause, shown
from streams.audit.tables import AuditRow, TreeHeadRow, TreeLeaf
from streams.domain.chain import epoch_millis
from streams.domain.merkle import MerkleLog
from streams.domain.tree_heads import SignedTreeHead

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

    def named(self) -> str:
        """Its entry as a message may name it: case and seq, nothing else stored there."""
        seq = self.seq if is_number(self.seq) else kind_of(self.seq)
        return f"case {case_label(self.case_id)} seq {seq}"


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
            raise self._refused("read", exc) from exc

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
                if not is_number(leaf.log_index):
                    raise TreeError(
                        f"a leaf of the store's log holds {kind_of(leaf.log_index)} as its "
                        f"index: {EDITED}"
                    )
                if leaf.log_index != len(log):
                    raise TreeError(f"the store's log has no leaf {len(log)}: leaves were deleted")
                if leaf.hash is None:
                    raise TreeError(
                        f"leaf {leaf.log_index} holds an entry ({leaf.named()}) that is no "
                        "longer in the store"
                    )
                data = hash_bytes(leaf.hash)
                if data is None:
                    raise TreeError(
                        f"leaf {leaf.log_index} holds an entry ({leaf.named()}) whose hash is "
                        f"not a SHA-256 in hex: {EDITED}"
                    )
                log.append(data)

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
        found = self._read(lambda conn: conn.execute(query).scalars().first())
        if found is not None and not is_number(found):
            raise TreeError(
                f"the leaf of case {case_id} seq {seq} holds {kind_of(found)} as its "
                f"index: {EDITED}"
            )
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

    def head_before(self, tree_size: int) -> SignedTreeHead | None:
        """The largest head issued over fewer than ``tree_size`` leaves, if any."""
        query = (
            select(TreeHeadRow)
            .where(TreeHeadRow.tree_size < tree_size)
            .order_by(TreeHeadRow.tree_size.desc())
            .limit(1)
        )
        rows = self._read(lambda conn: conn.execute(query).mappings().all())
        return _head(rows[0]) if rows else None

    def heads_after(self, tree_size: int, limit: int) -> list[SignedTreeHead]:
        """Up to ``limit`` heads issued over more than ``tree_size`` leaves, smallest first."""
        query = (
            select(TreeHeadRow)
            .where(TreeHeadRow.tree_size > tree_size)
            .order_by(TreeHeadRow.tree_size)
            .limit(limit)
        )
        rows = self._read(lambda conn: conn.execute(query).mappings().all())
        return [_head(row) for row in rows]

    def store_head(self, head: SignedTreeHead, *, replace: bool = False) -> None:
        """Record an issued head; with ``replace``, in place of a stored head of its size.

        Raises:
            StoreError: the store cannot be written, or holds a head of that size already
                (without ``replace``).
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
                if replace:
                    gone = delete(TreeHeadRow).where(TreeHeadRow.tree_size == head.tree_size)
                    conn.execute(gone)
                conn.execute(insert(TreeHeadRow), [row])
        except SQLAlchemyError as exc:
            raise self._refused("store a tree head in", exc) from exc

    def _read(self, query: Callable[[Connection], _T]) -> _T:
        try:
            with self.engine.connect() as conn:
                return query(conn)
        except SQLAlchemyError as exc:
            raise self._refused("read", exc) from exc

    def _refused(self, doing: str, exc: SQLAlchemyError) -> StoreError:
        # The database's reason, not SQLAlchemy's code of its error class.
        url = self.engine.url
        return StoreError(f"cannot {doing} the audit store {shown(url)}: {cause(exc, url)}")


class LogCopy:
    """The store's log in memory, 32 bytes a leaf, brought up to date before each use.

    Safe from threads. Only the leaves stored since the last use are read, so a root or a
    proof costs a few hundred hashes, not a read of the whole log.
    """

    def __init__(self, tree: TreeLog) -> None:
        """A copy of ``tree``'s log, empty until first used."""
        self._tree = tree
        self._log = MerkleLog()
        self._syncing = threading.Lock()

    def prove(self, head: SignedTreeHead, proving: Callable[[MerkleLog], _T]) -> _T:
        """``proving(log)`` of the log as the store holds it now, which must cover ``head``.

        Raises:
            TreeError: a leaf is missing or holds an entry that is gone, or the log holds
                fewer leaves than ``head`` covers.
            StoreError: the store cannot be read.
        """
        with self._syncing:
            self._tree.sync(self._log)
            if head.tree_size > len(self._log):
                raise TreeError(
                    f"the head of {head.tree_size} leaves covers more than the store's log "
                    f"holds ({len(self._log)}): leaves were deleted or the head was edited"
                )
            return proving(self._log)


def _head(row: RowMapping) -> SignedTreeHead:
    try:
        return head_of_row(row)
    except ValueError as exc:
        raise TreeError(f"a tree head kept in the audit store is damaged: {exc}") from None
