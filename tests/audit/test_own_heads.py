"""Plain ``kawal audit verify``: the store's log against the heads the hub signed and stored in it.

A case deleted whole (its entries, leaves and case head) leaves no chain broken; the heads the
sink stored in ``tree_heads`` still cover its leaves, so the routine check finds it without a
file of kept heads.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from streams.audit.head_check import HeadFinding
from streams.audit.own_heads import KEYS_ADVICE, verify_own_heads
from streams.audit.store import AuditStore
from streams.audit.tree_log import TreeLog
from streams.audit.verify import verify_store
from streams.cli.exits import EXIT_OK, EXIT_UNVERIFIED
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keyring import KeyRing
from streams.domain.merkle import MerkleLog
from streams.domain.tree_heads import issue_head
from tests.audit.test_head_check import CASE, NOW, OTHER, grow, kawal
from tests.audit.treetools import VALID_FROM, keyring, registry_toml, rewrite_case, signed_rows

#: What the command tells an operator to do about a finding of the log.
COMPARE = "`kawal audit verify --heads FILE`"


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return keyring()


@pytest.fixture
def keys_file(tmp_path: Path, ring: KeyRing) -> Path:
    path = tmp_path / "keys.toml"
    path.write_text(registry_toml(ring), encoding="utf-8")
    return path


def delete_case(store: AuditStore, case_id: str) -> None:
    """What the auditor found done: a case's rows gone from every table that held them."""
    with store.engine.begin() as conn:
        for table in ("audit_entries", "tree_leaves", "case_heads"):
            conn.execute(text(f"DELETE FROM {table} WHERE case_id = :c"), {"c": case_id})


def test_an_untouched_store_matches_its_latest_head(
    store: AuditStore, ring: KeyRing, keys_file: Path, tmp_path: Path
) -> None:
    grow(store, ring)

    report = verify_own_heads(store, ring.registry)
    ran = kawal(tmp_path, store, keys_file, "audit", "verify")

    assert report.ok, report.findings
    assert (report.tree_size, report.head and report.head.tree_size) == (9, 9)
    assert ran.returncode == EXIT_OK, ran.stdout
    assert ran.stdout.splitlines() == [
        "verified 2 cases, 9 entries",
        "the store's log of 9 entries matches the latest tree head the hub signed over it "
        "(size 9, issued 2026-12-04T08:00:20+00:00)",
    ]


# In grow(), CASE holds leaves 0-2 and 7-8, OTHER leaves 3-6; heads of sizes 3, 7 and 9.
@pytest.mark.parametrize(
    ("deleted", "codes"),
    [
        (OTHER, [HeadFinding.LEAF_MISSING, HeadFinding.NOT_IN_STORE, HeadFinding.NOT_IN_STORE]),
        (CASE, [HeadFinding.LEAF_MISSING, HeadFinding.NOT_IN_STORE, HeadFinding.BEYOND_STORE]),
    ],
)
def test_a_case_deleted_whole_fails_plain_verify(
    store: AuditStore,
    ring: KeyRing,
    keys_file: Path,
    tmp_path: Path,
    deleted: str,
    codes: list[str],
) -> None:
    grow(store, ring)
    delete_case(store, deleted)
    assert verify_store(store, keys=ring.registry).ok  # every remaining chain verifies

    ran = kawal(tmp_path, store, keys_file, "audit", "verify")
    as_json = kawal(tmp_path, store, keys_file, "audit", "verify", "--json")

    assert ran.returncode == EXIT_UNVERIFIED, ran.stdout
    assert ran.stdout.startswith("verified 1 cases,")
    assert "leaf_missing: 4 leaves of the log were deleted" in ran.stdout or deleted == CASE
    assert f"3 findings in the store's log of {9 if deleted == OTHER else 7} entries" in (
        ran.stdout
    )
    assert COMPARE in ran.stdout
    assert "kawal replay" in ran.stdout
    assert deleted not in ran.stdout + ran.stderr  # only what the store still holds is named
    log = json.loads(as_json.stdout)["log"]
    assert as_json.returncode == EXIT_UNVERIFIED
    assert [finding["code"] for finding in log["findings"]] == codes
    assert (log["head"]["tree_size"], COMPARE in log["advice"]) == (9, True)


def test_a_rewritten_entry_is_found_where_it_changed(
    store: AuditStore, ring: KeyRing, keys_file: Path, tmp_path: Path
) -> None:
    grow(store, ring)
    # Re-hashed and re-signed from seq 2 with the case head moved: every chain still verifies.
    rewrite_case(store, ring, CASE, 2)
    assert verify_store(store, keys=ring.registry).ok

    report = verify_own_heads(store, ring.registry)
    ran = kawal(tmp_path, store, keys_file, "audit", "verify")

    assert [(f.code, f.heads) for f in report.findings] == [
        (HeadFinding.NOT_IN_STORE, (7,)),
        (HeadFinding.NOT_IN_STORE, (9,)),
    ]
    # Heads of sizes 7 and 9 are read, not the head of size 3 that would pin it further.
    assert "the first changed leaf lies among leaves 0 to 6" in report.findings[0].detail
    assert ran.returncode == EXIT_UNVERIFIED
    assert "head_not_in_store: the store's log does not have the root of" in ran.stdout


def test_leaves_swapped_under_their_entries_are_found(store: AuditStore, ring: KeyRing) -> None:
    grow(store, ring)
    # Leaves 1 and 5 trade entries: every entry keeps a leaf, but the log's order is not the
    # one the hub signed.
    with store.engine.begin() as conn:
        for old, new in ((1, -1), (5, 1), (-1, 5)):
            conn.execute(text(f"UPDATE tree_leaves SET log_index = {new} WHERE log_index = {old}"))

    report = verify_own_heads(store, ring.registry)

    assert [f.code for f in report.findings] == [HeadFinding.NOT_IN_STORE] * 2


def test_a_store_without_heads_verifies_with_a_note(
    store: AuditStore, ring: KeyRing, keys_file: Path, tmp_path: Path
) -> None:
    empty = kawal(tmp_path, store, keys_file, "audit", "verify")
    store.insert(signed_rows(ring, CASE, 3))  # stored, no head signed over them yet
    unsigned = kawal(tmp_path, store, keys_file, "audit", "verify", "--json")

    assert (empty.returncode, unsigned.returncode) == (EXIT_OK, EXIT_OK)
    assert empty.stdout.splitlines()[-1] == (
        "the store's log of 0 entries has no tree head the hub signed over it yet to be "
        "checked against"
    )
    log = json.loads(unsigned.stdout)["log"]
    assert log == {"tree_size": 3, "head": None, "findings": [], "advice": None}


def test_a_latest_head_not_signed_by_the_hub_is_a_finding(
    store: AuditStore, ring: KeyRing, keys_file: Path, tmp_path: Path
) -> None:
    grow(store, ring)
    store.insert(signed_rows(ring, OTHER, 1, start=5))
    # A head over the true log, signed with a key the registry does not know.
    stranger = KeyRing.generated([HUB_INSTITUTION], VALID_FROM).signing_key(HUB_INSTITUTION, NOW)
    log = MerkleLog()
    tree = TreeLog(store.engine)
    tree.sync(log)
    at = NOW + timedelta(seconds=30)
    tree.store_head(issue_head(stranger, 10, log.root(), at, 9, log.consistency_proof(9)))

    report = verify_own_heads(store, ring.registry)
    ran = kawal(tmp_path, store, keys_file, "audit", "verify")

    assert [(f.code, f.heads) for f in report.findings] == [("hub_unknown_key", (10,))]
    assert "tree_heads was edited outside the hub" in report.findings[0].detail
    assert ran.returncode == EXIT_UNVERIFIED
    # Most likely a copy verified without its hub's registry: not told to restore a backup.
    assert (
        ran.stdout.splitlines()[-1] == f"1 finding in the store's log of 10 entries: {KEYS_ADVICE}"
    )
    assert "behind the hub's back" not in ran.stdout
