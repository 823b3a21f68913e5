"""Which records of ``kawal.case.audit`` the hub made: the audit store keeps only those.

Any client that can write the topic (on the embedded broker, any local user:
docs/broker-security.md) could otherwise put entries in the store that the hub never made, and
the hub would then sign tree heads over them and prove their inclusion. So before it is stored,
each entry must show:

- no disclosure in clear: the hub writes them only under the case's data key
  (``vaulted_disclosures``, :mod:`streams.vault.entries`);
- its hash recomputed from its fields (:func:`streams.domain.chain.entry_hash`);
- the hub's signature of that hash, under a hub key of the registry valid and not revoked at
  the entry's ``recorded_at`` (:func:`streams.domain.entries.hub_vouch_problem`, the check
  connectors make of their feeds);
- its ``prev_hash`` equal to the hash of the entry before it (genesis for seq 1), stored or
  accepted earlier in the same run (:class:`TrailEnds`).

Each failure is a :class:`~streams.domain.reasons.Rejection` naming the check and the place
(case ids are opaque), never a value. The checks cost one SHA-256, one Ed25519 verification
(the hub's public keys are parsed once: :mod:`streams.domain.signing`) and one store query per
batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select, tuple_

from streams.audit.store import AuditStore
from streams.audit.tables import AuditRow
from streams.domain.chain import GENESIS_HASH
from streams.domain.entries import hub_vouch_problem
from streams.domain.keys import KeyRegistry
from streams.domain.reasons import Reason, Rejection
from streams.topics import CASE_AUDIT

#: An entry's place in its case's trail: ``(case_id, seq)``.
Place = tuple[str, int]

#: Where an operator reads what a refused entry means and what to do.
RUNBOOK = "docs/operations.md#kawalaudittopicforged"

#: The reason of each problem :func:`~streams.domain.entries.hub_vouch_problem` finds.
_VOUCH_REASONS = {
    "entry_hash_mismatch": Reason.ENTRY_HASH_MISMATCH,
    "hub_signature_invalid": Reason.HUB_SIGNATURE_INVALID,
    "hub_unknown_key": Reason.UNKNOWN_KEY,
    "hub_key_of_another_institution": Reason.KEY_OF_ANOTHER_INSTITUTION,
    "hub_key_not_yet_valid": Reason.KEY_NOT_YET_VALID,
    "hub_key_expired": Reason.KEY_EXPIRED,
    "hub_key_revoked": Reason.KEY_REVOKED,
}

#: Every reason an entry is refused for here: with the codec's, all the audit sink counts.
ENTRY_REASONS = frozenset(
    {Reason.DISCLOSURES_IN_CLEAR, Reason.CHAIN_BROKEN, *_VOUCH_REASONS.values()}
)

_NOT_STORED = (
    f"the hub did not make this entry, so it is not stored: a client other than the hub's "
    f"worker wrote to {CASE_AUDIT} (docs/broker-security.md), or the sink's key registry "
    f"lacks the hub's key; see {RUNBOOK}"
)


def unmade(keys: KeyRegistry, entry: Mapping[str, Any]) -> Rejection | None:
    """Why the hub did not make ``entry`` (a decoded ``kawal.AuditEntry``); None if it did.

    Disclosures in clear are looked for first, so such a record is dead-lettered by its
    coordinates only (:data:`streams.hub.rejections.IN_CLEAR`), whatever else is wrong with it.
    """
    place = f"entry {entry['seq']} of case {entry['case_id']}"
    if entry.get("disclosures"):
        return Rejection(
            Reason.DISCLOSURES_IN_CLEAR,
            f"{place} carries disclosures in clear; the hub writes them only under the case's "
            f"data key (vaulted_disclosures): {_NOT_STORED}",
        )
    problem = hub_vouch_problem(keys, dict(entry))
    if problem is None:
        return None
    return Rejection(_VOUCH_REASONS[problem.code], f"{place}: {problem.detail}; {_NOT_STORED}")


class TrailEnds:
    """The hashes entries must chain to: the store's first, then those accepted in this run.

    The audit sink makes one per batch (each batch is stored before the next is read);
    ``kawal replay`` one per run, calling :meth:`next_batch` as it hands a batch to its writer,
    so the batch still being written is known here while the store may not hold it yet.
    """

    def __init__(self, store: AuditStore) -> None:
        """Hashes of ``store``, and none accepted yet."""
        self._store = store
        self._current: dict[Place, str] = {}
        self._previous: dict[Place, str] = {}
        self._stored: dict[Place, str] = {}

    def load(self, entries: Iterable[Mapping[str, Any]]) -> None:
        """Read, in one query, the stored hash of the entry before each of ``entries``.

        Raises:
            StoreError: the store cannot be read.
        """
        before = {(entry["case_id"], entry["seq"] - 1) for entry in entries if entry["seq"] > 1}
        self._stored = stored_hashes(self._store, before)

    def broken(self, entry: Mapping[str, Any]) -> Rejection | None:
        """Why ``entry`` does not follow the entry before it; None if it does."""
        case_id, seq = entry["case_id"], entry["seq"]
        if seq < 1:
            return Rejection(
                Reason.CHAIN_BROKEN,
                f"entry {seq} of case {case_id}: a trail starts at seq 1; {_NOT_STORED}",
            )
        expected = GENESIS_HASH if seq == 1 else self._hash_at((case_id, seq - 1))
        if expected is None:
            return Rejection(
                Reason.CHAIN_BROKEN,
                f"entry {seq} of case {case_id} follows no stored entry {seq - 1}: an entry "
                f"read before the one it follows, or one the hub did not make. Once entry "
                f"{seq - 1} is stored, `kawal replay` stores this one from the topic; see "
                f"{RUNBOOK}",
            )
        if entry["prev_hash"] != expected:
            return Rejection(
                Reason.CHAIN_BROKEN,
                f"entry {seq} of case {case_id} does not chain to the stored entry {seq - 1} "
                f"(its prev_hash is another hash); {_NOT_STORED}. If `kawal audit verify` "
                f"finds the stored entry {seq - 1} forged, rebuild the store",
            )
        return None

    def accept(self, entry: Mapping[str, Any]) -> None:
        """Note ``entry`` as one later entries of the run may chain to."""
        # The first entry at a place is the one stored (entry_writes), so it is the one to follow.
        self._current.setdefault((entry["case_id"], entry["seq"]), entry["hash"])

    def next_batch(self) -> None:
        """Start a new batch: forget the entries of the batch before the last one (stored)."""
        self._previous, self._current = self._current, {}

    def _hash_at(self, place: Place) -> str | None:
        # The store keeps the entry it holds at a place, whatever the run met there since.
        for known in (self._stored, self._previous, self._current):
            if place in known:
                return known[place]
        return None


def stored_hashes(store: AuditStore, places: set[Place]) -> dict[Place, str]:
    """The hash of each of ``places`` the store holds an entry at.

    Raises:
        StoreError: the store cannot be read.
    """
    if not places:
        return {}
    query = select(AuditRow.case_id, AuditRow.seq, AuditRow.hash).where(
        tuple_(AuditRow.case_id, AuditRow.seq).in_(places)
    )
    with store.reading() as conn:
        return {(case_id, seq): hash_ for case_id, seq, hash_ in conn.execute(query)}


def stored_unmade(store: AuditStore, keys: KeyRegistry, place: Place) -> Rejection | None:
    """Why the entry the store holds at ``place`` is not the hub's; None if it is (or is gone).

    For a conflict: an entry the hub made met another at its place, which the store kept. A
    store written before the sink checked entries may hold one the hub did not make.

    Raises:
        StoreError: the store cannot be read.
    """
    case_id, seq = place
    query = select(AuditRow).where(AuditRow.case_id == case_id, AuditRow.seq == seq)
    with store.reading() as conn:
        row = conn.execute(query).mappings().first()
    if row is None:
        return None
    entry = {column: row[column] for column in _CHECKED_COLUMNS}
    return unmade(keys, entry | {"disclosures": json.loads(row["disclosures"] or "[]")})


#: The stored columns :func:`unmade` reads (disclosures aside, stored as JSON text).
_CHECKED_COLUMNS = (
    "case_id",
    "seq",
    "prev_hash",
    "hash",
    "recorded_at",
    "source_topic",
    "source_partition",
    "source_offset",
    "key_id",
    "signature",
    "event",
    "hub_key_id",
    "hub_signature",
)
