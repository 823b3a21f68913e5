"""The signed tree heads and the consistency between any two, for auditors outside the hub.

An auditor who reads no Kafka topic (a state auditor, a court's expert, a journalist) keeps
heads as institutions do (docs/tree-heads.md), from ``GET /heads``, and later asks whether a
newer head extends one it kept: :meth:`HeadReader.consistency` gives the RFC 9162 proof
between the two sizes, which the auditor checks against the root it kept and the newer signed
root (:func:`streams.domain.merkle.verify_consistency`). A proof computed from a store
rewritten behind the hub's back does not lead from the kept root, whatever the store says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from streams.audit.case_proofs import UnknownHeadError
from streams.audit.tree_log import LogCopy, TreeLog
from streams.domain.merkle import verify_consistency
from streams.domain.tree_heads import SignedTreeHead

#: Heads one page of ``GET /heads`` holds at most, and by default.
MOST_HEADS = 1_000
DEFAULT_HEADS = 100


@dataclass(frozen=True)
class Consistency:
    """The proof that the log's first ``first`` leaves are a prefix of a signed head."""

    first: int
    #: The head signed over ``first`` leaves, when the hub issued one.
    first_head: SignedTreeHead | None
    second: SignedTreeHead
    proof: tuple[bytes, ...]

    def verifies(self) -> bool | None:
        """Whether the proof leads from the first head's root to the second's.

        None without a signed head of ``first`` leaves: the auditor checks it against the
        root it kept.
        """
        if self.first_head is None:
            return None
        first, second = self.first_head, self.second
        return verify_consistency(
            first.tree_size, second.tree_size, first.root_hash, second.root_hash, self.proof
        )

    def to_json(self) -> dict[str, Any]:
        """The proof for scripts: hashes in hex, each head an object as institutions keep it."""
        return {
            "first": self.first,
            "second": self.second.tree_size,
            "consistency": [item.hex() for item in self.proof],
            "first_head": None if self.first_head is None else _kept(self.first_head),
            "second_head": _kept(self.second),
            "verified": self.verifies(),
        }


class HeadReader:
    """The heads the hub issued over the store's log, and proofs between them."""

    def __init__(self, tree: TreeLog, log: LogCopy) -> None:
        """Read heads from ``tree`` and prove from ``log``, the copy of its log."""
        self._tree = tree
        self._log = log

    def heads(self, after: int = 0, limit: int = DEFAULT_HEADS) -> list[dict[str, Any]]:
        """Up to ``limit`` heads over more than ``after`` leaves, as institutions keep them.

        Raises:
            TreeError: a stored head is damaged.
            StoreError: the store cannot be read.
        """
        return [_kept(head) for head in self._tree.heads_after(after, limit)]

    def consistency(self, first: int, second: int | None = None) -> Consistency:
        """The proof from the first ``first`` leaves to the head of ``second`` (the latest).

        ``first`` may be any size up to ``second``: the auditor's kept head, signed before
        the store was rewritten, need not be among the heads the store holds now.

        Raises:
            UnknownHeadError: the hub issued no head of ``second`` leaves, or none yet.
            ValueError: ``first`` exceeds ``second``.
            TreeError: the log holds fewer leaves than the head covers, or a leaf is damaged.
            StoreError: the store cannot be read.
        """
        head = self._second(second)
        if first > head.tree_size:
            raise ValueError(
                f"first ({first}) must not exceed the size of the later head ({head.tree_size})"
            )
        proof = self._log.prove(
            head, lambda log: tuple(log.consistency_proof(first, head.tree_size))
        )
        return Consistency(first, self._tree.head_of_size(first), head, proof)

    def _second(self, tree_size: int | None) -> SignedTreeHead:
        head = self._tree.latest_head() if tree_size is None else self._tree.head_of_size(tree_size)
        if head is not None:
            return head
        if tree_size is None:
            raise UnknownHeadError(
                "the hub has signed no head yet; the audit sink signs one within "
                "KAWAL_TREE_HEAD_SECONDS of storing the first entry"
            )
        raise UnknownHeadError(f"the hub issued no head of {tree_size} leaves")


def _kept(head: SignedTreeHead) -> dict[str, Any]:
    """A head as an object, as a keeper's line holds it (not that line as a string)."""
    kept: dict[str, Any] = json.loads(head.to_json())
    return kept
