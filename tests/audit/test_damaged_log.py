"""The store's Merkle log and its heads damaged outside the hub: findings and refusals, not crashes.

A leaf moved to an index the hub never gives, an entry's hash that is not hex under a leaf, a
head whose size, root or proof was edited: ``kawal audit verify --heads`` reports them as
findings of the log, ``kawal audit proof`` (and ``GET /cases/{case_id}/proof``) and the sink's
head issuer refuse with what is wrong.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from streams.audit.case_proofs import ProofReader
from streams.audit.head_check import HeadFinding, verify_heads
from streams.audit.heads import HeadIssuer
from streams.audit.store import AuditStore
from streams.audit.tree_log import TreeError
from streams.cli.exits import EXIT_ERROR, EXIT_UNVERIFIED
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keyring import KeyRing
from tests.audit.test_head_check import CASE, NOW, Institution, kawal, keeping
from tests.audit.treetools import keyring, registry_toml
from tests.storetools import open_store


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return keyring()


@pytest.fixture
def kept(tmp_path: Path, ring: KeyRing) -> tuple[AuditStore, Institution]:
    """A SQLite store grown to three signed heads (sizes 3, 7, 9), kept by an institution."""
    store = open_store("sqlite", tmp_path, None)
    institution = keeping(store, tmp_path, ring)
    return store, institution


def damage(store: AuditStore, statement: str) -> None:
    with sqlite3.connect(str(store.engine.url.database)) as conn:
        conn.execute(statement)


@pytest.mark.parametrize("value", ["'zz'", "12", "X'00ff'", "CAST(X'ff' AS TEXT)"])
def test_an_entry_hash_that_is_not_hex_under_a_leaf_is_a_finding_of_the_log(
    kept: tuple[AuditStore, Institution], ring: KeyRing, value: str
) -> None:
    store, institution = kept
    damage(store, f"UPDATE audit_entries SET hash = {value} WHERE case_id = '{CASE}' AND seq = 2")

    report = verify_heads(store, institution.lines(), ring.registry)

    details = [f.detail for f in report.findings if f.code == HeadFinding.LEAF_WITHOUT_ENTRY]
    assert details == [
        "1 leaves of the log hold entries whose hash is not a SHA-256 in hex: "
        "the row was edited outside the hub (first: leaf 1)"
    ]
    with pytest.raises(TreeError, match="whose hash is not a SHA-256 in hex"):
        ProofReader(store).proof(CASE)


@pytest.mark.parametrize("index", ["9223372036854775807", "'x'", "4"])
def test_a_leaf_at_an_index_the_hub_never_gives_is_set_aside_and_reported(
    kept: tuple[AuditStore, Institution], ring: KeyRing, index: str
) -> None:
    store, institution = kept
    # The last leaf moved far beyond the log (no log of that size is ever computed), made
    # text, or onto the index of another leaf (a table without its key allows it).
    damage(store, "DROP INDEX IF EXISTS uq_tree_leaves_entry")
    damage(store, "CREATE TABLE loose AS SELECT * FROM tree_leaves")
    damage(store, "DROP TABLE tree_leaves")
    damage(store, "ALTER TABLE loose RENAME TO tree_leaves")
    damage(store, f"UPDATE tree_leaves SET log_index = {index} WHERE log_index = 8")

    report = verify_heads(store, institution.lines(), ring.registry)

    assert report.tree_size == 8
    misplaced = [f.detail for f in report.findings if "no index the hub gives" in f.detail]
    assert len(misplaced) == 1
    assert HeadFinding.BEYOND_STORE in [f.code for f in report.findings]  # the head of 9


def test_a_negative_leaf_index_refuses_the_proof(kept: tuple[AuditStore, Institution]) -> None:
    store, _ = kept
    damage(store, "UPDATE tree_leaves SET log_index = -5 WHERE log_index = 8")

    with pytest.raises(TreeError, match="one the hub never gives"):
        ProofReader(store).proof(CASE)


#: Edits of the latest stored head, each a column holding what the hub never writes there.
HEAD_EDITS = [
    "tree_size = 'x'",
    "tree_size = 9223372036854775807",
    "issued_at_ms = 'x'",
    "issued_at_ms = 9223372036854775807",
    "previous_size = -3",
    "root_hash = 'zz'",
    "root_hash = CAST(X'ff' AS TEXT)",
    "consistency = '{not json'",
    "consistency = '5'",
    "consistency = '[\"zz\"]'",
    "signature = 'abc'",
    "key_id = X'ff'",
]


@pytest.mark.parametrize("edit", HEAD_EDITS)
def test_a_damaged_stored_head_refuses_proofs_and_new_heads_with_its_reason(
    kept: tuple[AuditStore, Institution], ring: KeyRing, edit: str
) -> None:
    store, _ = kept
    damage(store, f"UPDATE tree_heads SET {edit} WHERE tree_size = 9")
    issuer = HeadIssuer(store, ring.signing_key(HUB_INSTITUTION, NOW))

    with pytest.raises(TreeError, match=r"edited outside the hub|covers more than"):
        ProofReader(store).proof(CASE)
    with pytest.raises(TreeError, match="edited outside the hub"):
        issuer.latest()
    with pytest.raises(TreeError, match="edited outside the hub"):
        issuer.issue(NOW + timedelta(minutes=1))


def test_the_commands_report_a_damaged_log_and_head(
    kept: tuple[AuditStore, Institution], ring: KeyRing, tmp_path: Path
) -> None:
    store, institution = kept
    keys_file = tmp_path / "keys.toml"
    keys_file.write_text(registry_toml(ring), encoding="utf-8")
    damage(store, "UPDATE tree_leaves SET log_index = 9223372036854775807 WHERE log_index = 8")
    damage(store, "UPDATE tree_heads SET root_hash = 'zz' WHERE tree_size = 9")

    verified = kawal(
        tmp_path, store, keys_file, "audit", "verify", "--heads", str(institution.path)
    )
    proof = kawal(tmp_path, store, keys_file, "audit", "proof", CASE)

    assert verified.returncode == EXIT_UNVERIFIED, verified.stderr
    assert "no index the hub gives" in verified.stdout
    assert proof.returncode == EXIT_ERROR
    assert proof.stderr.splitlines() == [
        "kawal: a tree head kept in the audit store is damaged: its root_hash is not a SHA-256 "
        "in hex: the row was edited outside the hub"
    ]


@pytest.mark.parametrize(
    ("table", "assignment"),
    [
        ("case_heads", "last_hash = CAST(X'ff' AS TEXT)"),
        ("case_heads", "last_hash = 'zz'"),
        ("case_heads", "last_seq = 'x'"),
        ("audit_entries", "hash = 'zz'"),
    ],
)
def test_a_case_head_or_entry_hash_that_is_no_hash_refuses_the_proof(
    kept: tuple[AuditStore, Institution], table: str, assignment: str
) -> None:
    store, _ = kept
    damage(store, f"UPDATE {table} SET {assignment} WHERE case_id = '{CASE}'")

    with pytest.raises(TreeError, match="edited outside the hub"):
        ProofReader(store).proof(CASE, 5 if table == "audit_entries" else None)
