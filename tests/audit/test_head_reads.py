"""Heads and consistency proofs for auditors outside the hub, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from streams.audit.case_proofs import UnknownHeadError
from streams.audit.head_reads import HeadReader
from streams.audit.heads import HeadIssuer
from streams.audit.store import AuditStore
from streams.audit.tree_log import LogCopy, TreeLog
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keyring import KeyRing
from streams.domain.merkle import verify_consistency
from streams.domain.tree_heads import SignedTreeHead
from tests.audit.treetools import keyring, rewrite_case, signed_rows

CASE = "7a1e0c2a-0000-4000-8000-000000000001"
OTHER = "7a1e0c2a-0000-4000-8000-000000000002"
NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return keyring()


def reader_of(store: AuditStore) -> HeadReader:
    tree = TreeLog(store.engine)
    return HeadReader(tree, LogCopy(tree))


def three_heads(store: AuditStore, ring: KeyRing) -> list[SignedTreeHead]:
    """Heads over 2, 3 and 6 entries, a second apart."""
    issuer = HeadIssuer(store, ring.signing_key(HUB_INSTITUTION, NOW))
    heads = []
    for number, rows in enumerate(
        [
            signed_rows(ring, CASE, 2),
            signed_rows(ring, OTHER, 1),
            signed_rows(ring, CASE, 3, start=3),
        ]
    ):
        store.insert(rows)
        head = issuer.issue(NOW + timedelta(seconds=number))
        assert head is not None
        heads.append(head)
    return heads


def test_heads_are_listed_oldest_first_as_institutions_keep_them(
    store: AuditStore, ring: KeyRing
) -> None:
    heads = three_heads(store, ring)
    reader = reader_of(store)

    listed = reader.heads()

    assert [SignedTreeHead.from_json(json.dumps(head)) for head in listed] == heads
    assert [head["tree_size"] for head in reader.heads(after=2, limit=1)] == [3]
    assert reader.heads(after=6) == []


def test_a_later_head_is_proven_to_extend_a_kept_one(store: AuditStore, ring: KeyRing) -> None:
    kept, _, latest = three_heads(store, ring)

    found = reader_of(store).consistency(kept.tree_size)

    assert (found.second, found.first_head, found.verifies()) == (latest, kept, True)
    assert verify_consistency(
        kept.tree_size, latest.tree_size, kept.root_hash, latest.root_hash, found.proof
    )
    shown = found.to_json()
    assert (shown["first"], shown["second"], shown["verified"]) == (2, 6, True)
    assert SignedTreeHead.from_json(json.dumps(shown["second_head"])) == latest


def test_a_size_the_hub_signed_no_head_of_is_proven_for_the_reader_to_check(
    store: AuditStore, ring: KeyRing
) -> None:
    heads = three_heads(store, ring)

    found = reader_of(store).consistency(1, heads[1].tree_size)

    # No stored root to check against: the auditor checks it against the root it kept.
    assert (found.first_head, found.verifies(), found.second) == (None, None, heads[1])
    assert found.to_json()["verified"] is None
    assert found.proof


def test_a_rewritten_store_proves_nothing_from_the_head_kept_before(
    store: AuditStore, ring: KeyRing
) -> None:
    kept, _, _ = three_heads(store, ring)
    rewrite_case(store, ring, CASE, 1)
    # The forger, holding the hub's key, deletes the heads and signs one over the new log.
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM tree_heads"))
    store.insert(signed_rows(ring, OTHER, 1, start=2))
    forged = HeadIssuer(store, ring.signing_key(HUB_INSTITUTION, NOW)).issue(
        NOW + timedelta(minutes=1)
    )
    assert forged is not None

    found = reader_of(store).consistency(kept.tree_size, forged.tree_size)

    assert found.first_head is None  # deleted: the auditor checks the root it kept
    assert not verify_consistency(
        kept.tree_size, forged.tree_size, kept.root_hash, forged.root_hash, found.proof
    )


def test_an_unknown_or_too_small_later_head_is_refused(store: AuditStore, ring: KeyRing) -> None:
    reader = reader_of(store)
    with pytest.raises(UnknownHeadError, match="signed no head yet"):
        reader.consistency(1)
    three_heads(store, ring)
    with pytest.raises(UnknownHeadError, match="no head of 4 leaves"):
        reader.consistency(1, 4)
    with pytest.raises(ValueError, match=r"first \(7\) must not exceed .* \(6\)"):
        reader.consistency(7)
