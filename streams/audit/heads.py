"""Signed tree heads issued over the store's log, and inclusion proofs of case heads.

:class:`HeadIssuer` is the hub's side: it keeps the log's leaf hashes in memory (32 bytes an
entry), reads only the leaves stored since it last looked, and signs a head when the log has
grown past the last head issued, with the consistency proof from that head. It never signs a
tree the last head is not a prefix of: that would be the hub itself showing a second history.
Heads every keeper refused (signed with a hub key revoked before they were issued) are passed
over: the next head proves from the last head keepers could keep.

:class:`CaseProof` is the reader's side: the inclusion proof of a case's entry in a signed
head (:mod:`streams.audit.case_proofs`), which anyone holding that head checks with
:func:`streams.domain.merkle.verify_inclusion`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from streams.audit.keepable_heads import last_keepable
from streams.audit.store import AuditStore
from streams.audit.tree_log import TreeError, TreeLog
from streams.domain.hub_signer import HubSigner
from streams.domain.keys import KeyRegistry
from streams.domain.merkle import MerkleLog, leaf_hash, verify_inclusion
from streams.domain.signing import SigningKey
from streams.domain.tree_heads import SignedTreeHead, issue_head


class HeadIssuer:
    """Signs tree heads over the store's log with the hub's key."""

    def __init__(
        self, store: AuditStore, key: SigningKey | HubSigner, keys: KeyRegistry | None = None
    ) -> None:
        """Issue heads over ``store``'s log, signed by ``key`` (or the hub's key valid then).

        With ``keys`` (the registry keepers check heads with), stored heads signed with a hub
        key revoked before they were issued are passed over, and so are the heads proving
        from them: new heads prove from the last head keepers could keep
        (:mod:`streams.audit.keepable_heads`).
        """
        self.tree = TreeLog(store.engine)
        self.key = key
        self.keys = keys
        self._log = MerkleLog()

    def latest(self) -> SignedTreeHead | None:
        """The last head issued that keepers can keep (to publish again after a restart).

        Raises:
            StoreError: the store cannot be read.
        """
        if self.keys is None:
            return self.tree.latest_head()
        return last_keepable(self.tree, self.keys)

    def issue(self, now: datetime) -> SignedTreeHead | None:
        """Sign and store a head over every leaf stored; None if the log has not grown.

        Raises:
            TreeError: the store's log lacks an entry, or no longer extends the last head
                issued; no head is signed.
            StoreError: the store cannot be read or written.
            streams.domain.hub_signer.HubKeyUnavailableError: no key of the hub is valid at
                ``now``; no head is signed.
        """
        self.tree.sync(self._log)
        size = len(self._log)
        newest = self.tree.latest_head()
        latest = self.latest()
        previous = 0 if latest is None else latest.tree_size
        if size <= previous:
            return None
        if latest is not None and self._log.root(previous) != latest.root_hash:
            raise TreeError(
                f"the store's first {previous} leaves no longer have the root of the head the "
                "hub issued over them: the store was rewritten; no head is signed over it"
            )
        proof = self._log.consistency_proof(previous, size)
        key = self.key if isinstance(self.key, SigningKey) else self.key.key_at(now)
        head = issue_head(key, size, self._log.root(size), now, previous, proof)
        # A head of this size the registry no longer vouches for gives way to this one.
        self.tree.store_head(head, replace=newest is not None and size <= newest.tree_size)
        return head


@dataclass(frozen=True)
class CaseProof:
    """Where a case's head stands in the latest signed head, and the proof of it."""

    case_id: str
    seq: int
    hash: str
    log_index: int
    head: SignedTreeHead
    proof: tuple[bytes, ...]

    def verifies(self) -> bool:
        """Whether the proof leads from the case's head to the signed root."""
        leaf = leaf_hash(bytes.fromhex(self.hash))
        return verify_inclusion(
            self.log_index, self.head.tree_size, leaf, self.proof, self.head.root_hash
        )

    def to_json(self) -> dict[str, Any]:
        """The proof for scripts: hashes in hex, the head an object as institutions keep it."""
        return {
            "case_id": self.case_id,
            "seq": self.seq,
            "hash": self.hash,
            "log_index": self.log_index,
            "tree_size": self.head.tree_size,
            "root_hash": self.head.root_hash.hex(),
            "inclusion": [item.hex() for item in self.proof],
            # An object, as a keeper's line holds it: not that line as a JSON string.
            "head": json.loads(self.head.to_json()),
            "verified": self.verifies(),
        }


class NotInHeadError(TreeError):
    """A case's head is not (yet) covered by a signed head."""
