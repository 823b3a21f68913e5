"""Inclusion proofs of trail entries in signed tree heads, for any reader of a case.

An institution that does not trust the hub's operator checks that an entry it holds (a
receipt's head, a feed entry) is in the log every other institution sees: it asks for the
entry's inclusion proof in a head it kept, and checks it against that head's root
(:func:`streams.domain.merkle.verify_inclusion`, RFC 9162). :class:`ProofReader` proves from
a copy of the log in memory (:class:`streams.audit.tree_log.LogCopy`).
"""

from __future__ import annotations

from streams.audit.heads import CaseProof, NotInHeadError
from streams.audit.log_rows import hash_bytes
from streams.audit.row_shapes import EDITED, head_problem
from streams.audit.store import AuditStore
from streams.audit.tree_log import LogCopy, TreeError, TreeLog
from streams.domain.tree_heads import SignedTreeHead


class UnknownEntryError(TreeError):
    """The case has no entry of that sequence number."""


class UnknownHeadError(TreeError):
    """The hub issued no head of that size."""


class ProofReader:
    """Proves entries of the store's cases in the heads the hub signed; safe from threads."""

    def __init__(self, store: AuditStore, log: LogCopy | None = None) -> None:
        """Prove from ``log``, a copy of ``store``'s log (one of its own by default)."""
        self._store = store
        self._tree = TreeLog(store.engine)
        self._log = log or LogCopy(self._tree)

    def proof(
        self, case_id: str, seq: int | None = None, tree_size: int | None = None
    ) -> CaseProof | None:
        """The proof of ``case_id``'s entry ``seq`` (newest) in head ``tree_size`` (the latest).

        Returns:
            None when the store holds no such case.

        Raises:
            UnknownEntryError: the case has no entry ``seq``.
            UnknownHeadError: the hub issued no head of ``tree_size`` leaves.
            NotInHeadError: the entry is in no signed head yet, or not in head ``tree_size``.
            TreeError: a leaf lacks its entry, so no proof can be computed.
            StoreError: the store cannot be read.
        """
        found = self._store.heads().get(case_id)
        if found is None:
            return None
        wrong_head = head_problem(found)
        if wrong_head is not None:
            raise TreeError(f"case {case_id}: {wrong_head}")
        newest, newest_hash = found
        wanted = newest if seq is None else seq
        entry_hash = newest_hash if wanted == newest else self._hash_of(case_id, wanted)
        if hash_bytes(entry_hash) is None:
            raise TreeError(
                f"case {case_id} seq {wanted} holds a hash that is not a SHA-256 in hex: {EDITED}"
            )
        index = self._tree.leaf_of(case_id, wanted)
        if index is not None and index < 0:
            raise TreeError(
                f"the leaf of case {case_id} seq {wanted} is at index {index}, one "
                f"the hub never gives: {EDITED}"
            )
        head = self._head(tree_size)
        if index is None or head is None or index >= head.tree_size:
            raise NotInHeadError(_not_in_head(case_id, wanted, tree_size))
        path = self._log.prove(head, lambda log: tuple(log.inclusion_proof(index, head.tree_size)))
        return CaseProof(case_id, wanted, entry_hash, index, head, path)

    def _hash_of(self, case_id: str, seq: int) -> str:
        rows = [row for row in self._store.entries(case_id) if row.seq == seq]
        if not rows:
            raise UnknownEntryError(f"case {case_id} has no entry seq {seq}")
        return rows[0].hash

    def _head(self, tree_size: int | None) -> SignedTreeHead | None:
        if tree_size is None:
            return self._tree.latest_head()
        head = self._tree.head_of_size(tree_size)
        if head is None:
            raise UnknownHeadError(f"the hub issued no head of {tree_size} leaves")
        return head


def _not_in_head(case_id: str, seq: int, tree_size: int | None) -> str:
    """Why entry ``seq`` has no proof, and what to ask instead."""
    if tree_size is None:
        return (
            f"case {case_id} seq {seq} is in no signed head yet; the audit sink signs a head "
            "within KAWAL_TREE_HEAD_SECONDS of storing an entry"
        )
    return (
        f"case {case_id} seq {seq} is not in the head of {tree_size} leaves: it was stored "
        "after that head was signed; ask for a later head, or leave out tree_size for the latest"
    )
