"""`kawal audit verify --heads` tells an auditor what happened, once, and where.

One rewrite under many kept heads is one line saying how many heads and which sizes, with the
first changed leaf as closely as the kept heads pin it; a fork gets its own advice and is not
reported again as a store to restore; the order of the heads in the file does not matter.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from streams.audit.head_check import HeadFinding, verify_heads
from streams.audit.heads import HeadIssuer
from streams.audit.store import AuditStore
from streams.cli.exits import EXIT_UNVERIFIED
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keyring import KeyRing
from tests.audit.test_head_check import (
    CASE,
    NOW,
    Institution,
    grow,
    grow_differently,
    kawal,
)
from tests.audit.treetools import keyring, registry_toml, rewrite_case, signed_rows
from tests.storetools import open_store


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return keyring()


@pytest.fixture
def store(tmp_path: Path) -> AuditStore:
    return open_store("sqlite", tmp_path, None)


def case(number: int) -> str:
    return str(uuid.UUID(int=number))


def keys_file(tmp_path: Path, ring: KeyRing) -> Path:
    path = tmp_path / "keys.toml"
    path.write_text(registry_toml(ring), encoding="utf-8")
    return path


def kept_batches(store: AuditStore, ring: KeyRing, tmp_path: Path, batches: list[int]) -> Path:
    """A head after each batch of one-entry cases (``batches`` cases each), all kept."""
    institution = Institution(tmp_path, ring)
    issuer = HeadIssuer(store, ring.signing_key(HUB_INSTITUTION, NOW))
    number = 0
    for seconds, count in enumerate(batches):
        rows = [row for n in range(number, number + count) for row in signed_rows(ring, case(n), 1)]
        number += count
        store.insert(rows)
        institution.receive(issuer.issue(NOW + timedelta(seconds=10 * seconds)))
    return institution.path


def test_one_rewrite_under_many_kept_heads_is_one_line_with_how_many_and_which_sizes(
    store: AuditStore, ring: KeyRing, tmp_path: Path
) -> None:
    heads = kept_batches(store, ring, tmp_path, [3] * 12)  # sizes 3, 6, ..., 36
    rewrite_case(store, ring, case(10), 1)  # leaf 10 alone, after the head of size 9
    keys = keys_file(tmp_path, ring)

    shown = kawal(tmp_path, store, keys, "audit", "verify", "--heads", str(heads))

    assert shown.returncode == EXIT_UNVERIFIED
    # The store's own latest heads (test_own_heads.py) have their lines, naming them by size.
    [line] = [
        line
        for line in shown.stdout.splitlines()
        if "head_not_in_store" in line and "the hub's head of size" not in line
    ]
    assert line.startswith("head_not_in_store: 9 heads (lines 4-12, tree sizes 12 to 36): ")
    # Where, as closely as the heads pin it, and honestly a range when that is all they give.
    assert "the store still matches head 3 (size 9)" in line
    assert "the first changed leaf lies among leaves 10 to 11 (the kept heads commit" in line
    assert f"where the store now holds case {case(10)} seq 1, case {case(11)} seq 1:" in line
    assert "(one line per problem; --json lists every head's finding)" in shown.stdout
    assert "9 findings in 12 kept heads" in shown.stdout

    as_json = kawal(tmp_path, store, keys, "audit", "verify", "--heads", str(heads), "--json")
    findings = json.loads(as_json.stdout)["heads"]["findings"]
    assert [(f["code"], f["heads"], f["tree_sizes"]) for f in findings] == [
        ("head_not_in_store", [number], [3 * number]) for number in range(4, 13)
    ]


def test_a_head_s_own_proof_narrows_a_change_between_two_far_apart_heads(
    store: AuditStore, ring: KeyRing, tmp_path: Path
) -> None:
    heads = kept_batches(store, ring, tmp_path, [64, 69])  # sizes 64 and 133
    rewrite_case(store, ring, case(130), 1)  # leaf 130 alone
    report = verify_heads(store, heads.read_text().splitlines(), ring.registry)

    [finding] = report.findings
    # Not "among leaves 64 to 132": the proof from 64 to 133 shows leaves 64 to 127 unchanged.
    assert "the first changed leaf lies among leaves 128 to 132" in finding.detail


def test_a_fork_says_what_it_means_and_is_not_also_a_store_to_restore(
    store: AuditStore, ring: KeyRing, tmp_path: Path
) -> None:
    _, heads = grow(store, ring)
    other = open_store("sqlite", tmp_path, None)
    _, shown_elsewhere = grow_differently(other, ring)
    other.close()
    path = tmp_path / "joined.heads.jsonl"
    path.write_text(f"{heads[1].to_json()}\n{shown_elsewhere[1].to_json()}\n", encoding="utf-8")

    shown = kawal(
        tmp_path, store, keys_file(tmp_path, ring), "audit", "verify", "--heads", str(path)
    )

    assert shown.returncode == EXIT_UNVERIFIED
    assert "head_not_in_store" not in shown.stdout
    assert "restore" not in shown.stdout
    [fork] = [line for line in shown.stdout.splitlines() if line.startswith("fork:")]
    assert "heads 1 and 2 do not extend each other: both are of size 7" in fork
    assert "the store matches head 1, not head 2" in fork
    assert "the hub's key or its store was misused" in fork
    assert "Keep both heads" in fork
    assert "escalate" in fork


def test_the_order_of_the_heads_does_not_matter_and_the_command_says_so(
    store: AuditStore, ring: KeyRing, tmp_path: Path
) -> None:
    heads = kept_batches(store, ring, tmp_path, [2, 3, 2, 4, 1, 3])
    rewrite_case(store, ring, case(6), 1)
    lines = heads.read_text(encoding="utf-8").splitlines()
    shuffled = lines[:]
    random.Random(7).shuffle(shuffled)
    assert shuffled != lines

    def found(order: list[str]) -> set[tuple[str, int]]:
        report = verify_heads(store, order, ring.registry)
        return {(f.code, size) for f in report.findings for size in f.tree_sizes}

    assert found(shuffled) == found(lines)
    assert {code for code, _ in found(lines)} == {HeadFinding.NOT_IN_STORE}
    path = tmp_path / "shuffled.jsonl"
    path.write_text("\n".join(shuffled) + "\n", encoding="utf-8")
    shown = kawal(
        tmp_path, store, keys_file(tmp_path, ring), "audit", "verify", "--heads", str(path)
    )
    assert "so the order of the heads in the file does not matter" in shown.stdout


def test_a_store_rewritten_beside_a_fork_is_still_reported_with_where_it_changed(
    store: AuditStore, ring: KeyRing, tmp_path: Path
) -> None:
    _, heads = grow(store, ring)
    other = open_store("sqlite", tmp_path, None)
    _, shown_elsewhere = grow_differently(other, ring)
    other.close()
    rewrite_case(store, ring, CASE, 4)  # leaves 7 and 8: the store no longer matches head 3
    lines = [head.to_json() for head in heads + shown_elsewhere]

    report = verify_heads(store, lines, ring.registry)

    # Head 3 is ours and forks with head 6, which the store does not match either: the store
    # changed too. Heads 4 to 6 are the other history's: the forks say so, once.
    assert [f.heads for f in report.findings if f.code == HeadFinding.NOT_IN_STORE] == [(3,)]
    assert "the first changed leaf is leaf 7" in report.findings[0].detail
    forks = [f for f in report.findings if f.code == HeadFinding.FORK]
    assert {number for f in forks for number in f.heads} == {1, 2, 3, 4, 5, 6}
    assert report.matching == (1, 2)
