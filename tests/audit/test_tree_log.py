"""The hub's Merkle log in the audit store, on SQLite and PostgreSQL: leaves, heads, proofs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from streams.audit import migrations
from streams.audit.case_proofs import ProofReader, UnknownEntryError, UnknownHeadError
from streams.audit.heads import HeadIssuer, NotInHeadError
from streams.audit.store import AuditRow, AuditStore
from streams.audit.tree_log import TreeError, TreeLog
from streams.audit.verify import verify_store
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keyring import KeyRing
from streams.domain.merkle import MerkleLog, verify_consistency
from streams.domain.tree_heads import signature_problem
from tests.audit.treetools import keyring, rewrite_case, signed_rows

CASE = "7a1e0c2a-0000-4000-8000-000000000001"
OTHER = "7a1e0c2a-0000-4000-8000-000000000002"
AUDIT = "kawal.case.audit"
NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return keyring()


def issuer(store: AuditStore, ring: KeyRing) -> HeadIssuer:
    return HeadIssuer(store, ring.signing_key(HUB_INSTITUTION, NOW))


def leaves(store: AuditStore) -> list[tuple[int, str, int]]:
    return [(leaf.log_index, leaf.case_id, leaf.seq) for leaf in TreeLog(store.engine).leaves()]


def test_each_new_entry_becomes_the_next_leaf_in_the_batch_order(
    store: AuditStore, ring: KeyRing
) -> None:
    first = signed_rows(ring, CASE, 2)
    other = signed_rows(ring, OTHER, 1)
    store.insert([first[1], other[0], first[0]], {(AUDIT, 0): 3})
    store.insert(signed_rows(ring, CASE, 1, start=3))
    assert leaves(store) == [(0, CASE, 2), (1, OTHER, 1), (2, CASE, 1), (3, CASE, 3)]
    assert migrations.current_revision(store.engine) == migrations.head_revision(store.engine)


def test_a_batch_applied_twice_places_no_leaf_twice(store: AuditStore, ring: KeyRing) -> None:
    rows = signed_rows(ring, CASE, 3)
    store.insert(rows[:2])
    assert store.insert(rows) == 1
    assert store.insert(rows) == 0
    assert leaves(store) == [(0, CASE, 1), (1, CASE, 2), (2, CASE, 3)]
    assert TreeLog(store.engine).entries_outside() == 0


def test_an_entry_twice_in_one_batch_is_stored_once(store: AuditStore, ring: KeyRing) -> None:
    # A worker that crashed after producing an entry produces it again: after a restart of
    # everything the sink can read both copies in one batch, before either is stored.
    rows = signed_rows(ring, CASE, 2)
    assert store.insert([rows[0], rows[1], rows[1]], {(AUDIT, 0): 3}) == 2
    assert leaves(store) == [(0, CASE, 1), (1, CASE, 2)]
    assert TreeLog(store.engine).entries_outside() == 0


def test_an_entry_of_another_hash_at_a_stored_place_is_a_conflict_and_changes_nothing(
    store: AuditStore, ring: KeyRing
) -> None:
    kept = signed_rows(ring, CASE, 2)
    forked = signed_rows(ring, CASE, 2, variant="diverged")
    assert store.insert_entries(kept[:1]).conflicts == ()
    # Within one batch and against the store: the first entry at a place is the one kept.
    written = store.insert_entries([forked[0], kept[1], forked[1], kept[1]])
    assert (written.new, written.conflicts) == (1, ((CASE, 1), (CASE, 2)))
    assert [row.hash for row in store.trail(CASE)] == [row["hash"] for row in kept]
    assert store.heads() == {CASE: (2, kept[1]["hash"])}
    assert leaves(store) == [(0, CASE, 1), (1, CASE, 2)]


def test_entries_stored_before_the_log_become_its_first_leaves_in_recorded_order(
    tmp_path: Path, ring: KeyRing
) -> None:
    store = AuditStore(f"sqlite:///{tmp_path / 'old.db'}")
    migrations.upgrade(store.engine, "0004")
    # Rows as a store of that revision held them: no vaulted disclosures yet (0006).
    rows = [
        {name: value for name, value in row.items() if name != "vaulted_disclosures"}
        for row in signed_rows(ring, CASE, 3)
    ]
    columns = ", ".join(rows[0])
    values = ", ".join(f":{name}" for name in rows[0])
    with store.engine.begin() as conn:
        conn.execute(text(f"INSERT INTO audit_entries ({columns}) VALUES ({values})"), rows[::-1])
    store.create_schema()
    assert leaves(store) == [(0, CASE, 1), (1, CASE, 2), (2, CASE, 3)]
    store.insert(signed_rows(ring, CASE, 1, start=4))
    assert leaves(store)[-1] == (3, CASE, 4)
    store.close()


def test_a_head_is_issued_only_when_the_log_grew(store: AuditStore, ring: KeyRing) -> None:
    heads = issuer(store, ring)
    assert heads.issue(NOW) is None
    store.insert(signed_rows(ring, CASE, 3))
    first = heads.issue(NOW)
    assert first is not None
    assert (first.tree_size, first.previous_size) == (3, 0)
    assert first.consistency == ()
    assert signature_problem(first, ring.registry) is None
    assert heads.issue(NOW + timedelta(seconds=1)) is None
    assert heads.latest() == first


def test_each_head_proves_it_extends_the_one_before(store: AuditStore, ring: KeyRing) -> None:
    heads = issuer(store, ring)
    store.insert(signed_rows(ring, CASE, 3))
    first = heads.issue(NOW)
    store.insert(signed_rows(ring, OTHER, 4) + signed_rows(ring, CASE, 2, start=4))
    second = heads.issue(NOW + timedelta(seconds=10))
    assert first is not None
    assert second is not None
    assert (second.tree_size, second.previous_size) == (9, 3)
    assert verify_consistency(3, 9, first.root_hash, second.root_hash, second.consistency)
    # A restarted sink reads the log afresh and goes on from the stored head.
    store.insert(signed_rows(ring, OTHER, 1, start=5))
    third = issuer(store, ring).issue(NOW + timedelta(seconds=20))
    assert third is not None
    assert third.previous_size == 9
    assert verify_consistency(9, 10, second.root_hash, third.root_hash, third.consistency)
    assert TreeLog(store.engine).latest_head() == third


def test_no_head_is_signed_over_a_store_rewritten_under_the_hub(
    store: AuditStore, ring: KeyRing
) -> None:
    store.insert(signed_rows(ring, CASE, 3))
    assert issuer(store, ring).issue(NOW) is not None
    rewrite_case(store, ring, CASE, 2)
    store.insert(signed_rows(ring, OTHER, 1))
    with pytest.raises(TreeError, match="the store was rewritten"):
        issuer(store, ring).issue(NOW + timedelta(seconds=10))


def test_no_head_is_signed_over_a_leaf_whose_entry_is_gone(
    store: AuditStore, ring: KeyRing
) -> None:
    store.insert(signed_rows(ring, CASE, 3))
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE seq = 2"))
    with pytest.raises(TreeError, match="leaf 1 holds an entry"):
        issuer(store, ring).issue(NOW)


def test_no_head_is_signed_over_a_log_with_a_deleted_leaf(store: AuditStore, ring: KeyRing) -> None:
    store.insert(signed_rows(ring, CASE, 3))
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM tree_leaves WHERE log_index = 1"))
    with pytest.raises(TreeError, match="no leaf 1"):
        issuer(store, ring).issue(NOW)


def test_a_case_head_is_proven_included_in_the_latest_signed_head(
    store: AuditStore, ring: KeyRing
) -> None:
    store.insert(signed_rows(ring, CASE, 2) + signed_rows(ring, OTHER, 3))
    store.insert(signed_rows(ring, CASE, 1, start=3))
    head = issuer(store, ring).issue(NOW)
    assert head is not None
    proof = ProofReader(store).proof(CASE)
    assert proof is not None
    assert proof.verifies()
    assert (proof.seq, proof.log_index, proof.head) == (3, 5, head)
    assert proof.hash == store.heads()[CASE][1]
    shown = proof.to_json()
    assert shown["verified"] is True
    assert shown["tree_size"] == 6
    # The head is an object, the line a keeper keeps, not that line quoted as a string.
    assert shown["head"] == json.loads(head.to_json())
    assert json.loads(json.dumps(shown))["head"]["root_hash"] == shown["root_hash"]
    # The same proof from a log built by the reader out of the entries it holds.
    log = MerkleLog(bytes.fromhex(row.hash) for row in _in_log_order(store))
    assert log.inclusion_proof(5, 6) == list(proof.proof)


def test_a_case_newer_than_the_latest_head_has_no_proof_yet(
    store: AuditStore, ring: KeyRing
) -> None:
    store.insert(signed_rows(ring, CASE, 2))
    with pytest.raises(NotInHeadError, match="in no signed head yet"):
        ProofReader(store).proof(CASE)
    assert issuer(store, ring).issue(NOW) is not None
    store.insert(signed_rows(ring, CASE, 1, start=3))
    with pytest.raises(NotInHeadError):
        ProofReader(store).proof(CASE)
    assert ProofReader(store).proof(OTHER) is None


def test_an_older_entry_is_proven_in_a_head_the_reader_kept(
    store: AuditStore, ring: KeyRing
) -> None:
    store.insert(signed_rows(ring, CASE, 2) + signed_rows(ring, OTHER, 1))
    kept = issuer(store, ring).issue(NOW)
    store.insert(signed_rows(ring, CASE, 2, start=3))
    latest = issuer(store, ring).issue(NOW)
    assert kept is not None
    assert latest is not None
    reader = ProofReader(store)

    in_kept = reader.proof(CASE, seq=2, tree_size=kept.tree_size)
    in_latest = reader.proof(CASE, seq=2)

    assert in_kept is not None
    assert in_latest is not None
    assert (in_kept.log_index, in_kept.head, in_kept.verifies()) == (1, kept, True)
    assert (in_latest.head, in_latest.verifies()) == (latest, True)
    assert in_kept.hash == in_latest.hash != store.heads()[CASE][1]
    # The case's newest entry came after the kept head: it is not in it.
    with pytest.raises(NotInHeadError) as refused:
        reader.proof(CASE, tree_size=kept.tree_size)
    assert f"seq 4 is not in the head of {kept.tree_size} leaves" in str(refused.value)
    assert "ask for a later head" in str(refused.value)
    with pytest.raises(UnknownHeadError, match="no head of 4 leaves"):
        reader.proof(CASE, tree_size=4)
    with pytest.raises(UnknownEntryError, match="no entry seq 9"):
        reader.proof(CASE, seq=9)


def test_signed_entries_still_verify_with_their_leaves(store: AuditStore, ring: KeyRing) -> None:
    store.insert(signed_rows(ring, CASE, 3))
    report = verify_store(store, keys=ring.registry)
    assert report.ok
    assert report.entries == 3


def _in_log_order(store: AuditStore) -> list[AuditRow]:
    rows = {(row.case_id, row.seq): row for row in store.entries()}
    return [rows[case_id, seq] for _, case_id, seq in leaves(store)]
