"""`kawal audit verify --heads`: a rewritten store and a fork, found from heads an institution kept.

The heads reach the institution as the sink publishes them (``kawal.TreeHead``, Avro) and are
kept by the connectors' :class:`connectors.heads.HeadKeeper`, whose file is what is checked.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest.mock import patch

import pytest
from sqlalchemy import text

from connectors.heads import HeadKeeper
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.head_check import HeadFinding, HeadsReport, verify_heads
from streams.audit.heads import HeadIssuer
from streams.audit.store import AuditStore
from streams.audit.verify import verify_store
from streams.cli import main
from streams.cli.exits import EXIT_ERROR, EXIT_OK, EXIT_UNKNOWN_CASE, EXIT_UNVERIFIED
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keyring import KeyRing
from streams.domain.tree_heads import TREE_HEAD_RECORD, SignedTreeHead, issue_head
from tests.audit.treetools import (
    SOURCE,
    keyring,
    registry_toml,
    rewrite_case,
    signed_rows,
)
from tests.storetools import open_store

CASE = "8b2f0c2a-0000-4000-8000-000000000001"
OTHER = "8b2f0c2a-0000-4000-8000-000000000002"
NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
CODEC = AvroCodec(default_catalog())


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return keyring()


@pytest.fixture(params=["sqlite", "postgresql"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server(request: pytest.FixtureRequest, kind: str) -> object:
    return request.getfixturevalue("postgres") if kind == "postgresql" else None


@pytest.fixture
def store(kind: str, server: object, tmp_path: Path) -> Iterator[AuditStore]:
    opened = open_store(kind, tmp_path, server)  # type: ignore[arg-type]
    yield opened
    opened.close()


class Institution:
    """An institution's connector keeping every head the hub publishes, in a file."""

    def __init__(self, tmp_path: Path, ring: KeyRing) -> None:
        self.path = tmp_path / "heads.jsonl"
        self.keeper = HeadKeeper(self.path, ring.registry)

    def receive(self, head: SignedTreeHead | None) -> None:
        assert head is not None
        record = CODEC.decode(CODEC.encode(TREE_HEAD_RECORD, head.to_record())).record
        assert self.keeper.keep(record) is None

    def lines(self) -> list[str]:
        return self.path.read_text(encoding="utf-8").splitlines()


def grow(store: AuditStore, ring: KeyRing) -> tuple[HeadIssuer, list[SignedTreeHead]]:
    """Three batches, a head after each: sizes 3, 7 and 9."""
    issuer = HeadIssuer(store, ring.signing_key(HUB_INSTITUTION, NOW))
    heads = []
    store.insert(signed_rows(ring, CASE, 3))
    heads.append(issuer.issue(NOW))
    store.insert(signed_rows(ring, OTHER, 4))
    heads.append(issuer.issue(NOW + timedelta(seconds=10)))
    store.insert(signed_rows(ring, CASE, 2, start=4))
    heads.append(issuer.issue(NOW + timedelta(seconds=20)))
    assert all(head is not None for head in heads)
    return issuer, [head for head in heads if head is not None]


@dataclass(frozen=True)
class Ran:
    """What a ``kawal`` command returned and printed."""

    returncode: int
    stdout: str
    stderr: str


def codes(report: HeadsReport) -> list[str]:
    return [finding.code for finding in report.findings]


def test_a_store_that_kept_its_history_matches_every_kept_head(
    store: AuditStore, ring: KeyRing, tmp_path: Path
) -> None:
    institution = keeping(store, tmp_path, ring)
    report = verify_heads(store, institution.lines(), ring.registry)
    assert report.ok, report.findings
    assert (report.read, report.signed, report.tree_size) == (3, 3, 9)


def test_entries_and_case_head_rewritten_together_are_found_from_a_head_kept_before(
    store: AuditStore, ring: KeyRing, tmp_path: Path
) -> None:
    institution = keeping(store, tmp_path, ring)
    # The forger rewrites the case from seq 2 (leaf 1), re-hashing and re-signing everything:
    # the chains, the case heads and every signature verify again.
    rewrite_case(store, ring, CASE, 2)
    assert verify_store(store, keys=ring.registry).ok
    report = verify_heads(store, institution.lines(), ring.registry)
    assert codes(report) == [HeadFinding.NOT_IN_STORE] * 3
    assert [finding.heads for finding in report.findings] == [(1,), (2,), (3,)]
    assert "rewritten after it was issued" in report.findings[0].detail


def test_a_rewrite_after_the_first_head_leaves_that_head_matching(
    store: AuditStore, ring: KeyRing, tmp_path: Path
) -> None:
    institution = keeping(store, tmp_path, ring)
    rewrite_case(store, ring, CASE, 4)  # leaves 7 and 8, after the first two heads
    report = verify_heads(store, institution.lines(), ring.registry)
    assert [(f.code, f.heads) for f in report.findings] == [(HeadFinding.NOT_IN_STORE, (3,))]
    # The auditor is told where to look: after the last head the store still matches.
    detail = report.findings[0].detail
    assert "the store still matches head 2 (size 7)" in detail
    # Head 3's own proof from head 2 commits to leaf 7 alone: the first changed leaf is known,
    # not only the leaves after head 2 (7 and 8).
    assert f"the first changed leaf is leaf 7, which the store now gives to case {CASE} seq 4:" in (
        detail
    )
    assert "compare that case's trail from there on" in detail
    assert "restore the audit store from a backup" in detail


def test_a_head_of_another_history_before_a_matching_one_is_a_fork(
    store: AuditStore, ring: KeyRing, tmp_path: Path, kind: str, server: object
) -> None:
    _, heads = grow(store, ring)
    other = open_store(kind, tmp_path, server)  # type: ignore[arg-type]
    _, shown_elsewhere = grow_differently(other, ring)
    other.close()
    lines = [shown_elsewhere[0].to_json(), heads[1].to_json(), heads[2].to_json()]
    report = verify_heads(store, lines, ring.registry)
    # The head of the other history is the fork's, not also a store to restore.
    assert codes(report) == [HeadFinding.FORK]
    fork = report.findings[0]
    assert fork.heads == (1, 2)
    assert fork.detail.startswith("heads 1 and 2 do not extend each other")
    assert "the store matches head 2, not head 1" in fork.detail


def test_two_heads_of_one_size_with_different_roots_are_a_fork(
    store: AuditStore, ring: KeyRing, tmp_path: Path, kind: str, server: object
) -> None:
    _, heads = grow(store, ring)
    other = open_store(kind, tmp_path, server)  # type: ignore[arg-type]
    _, shown_elsewhere = grow_differently(other, ring)
    other.close()
    assert shown_elsewhere[1].tree_size == heads[1].tree_size
    lines = [heads[1].to_json(), shown_elsewhere[1].to_json()]
    report = verify_heads(store, lines, ring.registry)
    assert codes(report) == [HeadFinding.FORK]
    assert "both are of size 7" in report.findings[0].detail


def test_a_head_whose_own_proof_fails_from_a_kept_head_is_a_fork(
    store: AuditStore, ring: KeyRing, tmp_path: Path, kind: str, server: object
) -> None:
    _, heads = grow(store, ring)
    other = open_store(kind, tmp_path, server)  # type: ignore[arg-type]
    _, shown_elsewhere = grow_differently(other, ring)
    other.close()
    # Of another history, the head of size 9 proves it extends *a* head of size 7, not ours.
    lines = [heads[1].to_json(), shown_elsewhere[2].to_json()]
    report = verify_heads(store, lines, ring.registry)
    assert codes(report) == [HeadFinding.FORK]
    assert "its consistency proof fails" in report.findings[0].detail


def test_heads_not_signed_by_the_hub_prove_nothing_and_are_reported(
    store: AuditStore, ring: KeyRing
) -> None:
    _, heads = grow(store, ring)
    sender = ring.signing_key(SOURCE, NOW)
    by_sender = issue_head(sender, 9, heads[2].root_hash, NOW)
    record = json.loads(heads[2].to_json())
    record["signature"] = "00" * 64
    lines = [
        "{not json",
        by_sender.to_json(),
        json.dumps(record),
        "",
        heads[2].to_json(),
    ]
    report = verify_heads(store, lines, ring.registry)
    assert codes(report) == [
        HeadFinding.UNREADABLE,
        "hub_key_of_another_institution",
        "head_signature_invalid",
    ]
    assert [finding.heads for finding in report.findings] == [(1,), (2,), (3,)]
    assert (report.read, report.signed) == (4, 1)


def test_entries_removed_with_their_leaves_leave_the_kept_heads_beyond_the_store(
    store: AuditStore, ring: KeyRing, tmp_path: Path
) -> None:
    institution = keeping(store, tmp_path, ring)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE case_id = :c AND seq > 3"), {"c": CASE})
        conn.execute(text("DELETE FROM tree_leaves WHERE log_index > 6"))
        conn.execute(text("UPDATE case_heads SET last_seq = 3 WHERE case_id = :c"), {"c": CASE})
    report = verify_heads(store, institution.lines(), ring.registry)
    assert [(f.code, f.heads) for f in report.findings] == [(HeadFinding.BEYOND_STORE, (3,))]


def test_an_entry_deleted_under_its_leaf_is_reported_and_breaks_the_heads_over_it(
    store: AuditStore, ring: KeyRing, tmp_path: Path
) -> None:
    institution = keeping(store, tmp_path, ring)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE case_id = :c AND seq = 2"), {"c": OTHER})
    report = verify_heads(store, institution.lines(), ring.registry)
    # Leaf 4: the heads of sizes 7 and 9 cover it, the head of size 3 does not.
    assert [(f.code, f.heads) for f in report.findings] == [
        (HeadFinding.LEAF_WITHOUT_ENTRY, ()),
        (HeadFinding.NOT_IN_STORE, (2,)),
        (HeadFinding.NOT_IN_STORE, (3,)),
    ]
    assert "first: leaf 4" in report.findings[0].detail


def test_a_deleted_leaf_and_an_entry_written_around_the_log_are_reported(
    store: AuditStore, ring: KeyRing, tmp_path: Path
) -> None:
    institution = keeping(store, tmp_path, ring)
    extra = signed_rows(ring, OTHER, 1, start=5)[0]
    columns = ", ".join(extra)
    values = ", ".join(f":{name}" for name in extra)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM tree_leaves WHERE log_index = 4"))
        conn.execute(text(f"INSERT INTO audit_entries ({columns}) VALUES ({values})"), extra)
    report = verify_heads(store, institution.lines(), ring.registry)
    assert codes(report) == [
        HeadFinding.LEAF_MISSING,
        HeadFinding.ENTRIES_OUTSIDE_LOG,
        HeadFinding.NOT_IN_STORE,
        HeadFinding.NOT_IN_STORE,
    ]


def test_the_command_exits_4_on_a_rewrite_with_json_findings(
    store: AuditStore, ring: KeyRing, tmp_path: Path
) -> None:
    institution = keeping(store, tmp_path, ring)
    keys_file = tmp_path / "keys.toml"
    keys_file.write_text(registry_toml(ring), encoding="utf-8")
    verify = ["audit", "verify", "--heads", str(institution.path), "--json"]

    clean = kawal(tmp_path, store, keys_file, *verify)
    assert clean.returncode == EXIT_OK, clean.stderr
    result = json.loads(clean.stdout)
    assert result["findings"] == []
    assert result["heads"]["findings"] == []
    assert result["heads"] | {"findings": None} == {
        "read": 3,
        "signed": 3,
        "tree_size": 9,
        "findings": None,
    }

    rewrite_case(store, ring, CASE, 2)
    rewritten = kawal(tmp_path, store, keys_file, *verify)
    assert rewritten.returncode == EXIT_UNVERIFIED
    result = json.loads(rewritten.stdout)
    assert result["findings"] == []  # the chains and signatures alone verify
    assert [f["code"] for f in result["heads"]["findings"]] == ["head_not_in_store"] * 3

    shown = kawal(tmp_path, store, keys_file, "audit", "verify", "--heads", str(institution.path))
    assert shown.returncode == EXIT_UNVERIFIED
    assert "3 findings in 3 kept heads, against a log of 9 entries" in shown.stdout

    missing = kawal(tmp_path, store, keys_file, "audit", "verify", "--heads", "/nonexistent")
    assert missing.returncode == 1
    assert "cannot read the heads file /nonexistent" in missing.stderr


def test_a_file_without_a_single_head_is_refused_in_one_line(
    store: AuditStore, ring: KeyRing, tmp_path: Path
) -> None:
    grow(store, ring)
    keys_file = tmp_path / "keys.toml"
    keys_file.write_text(registry_toml(ring), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text('# Kawal\n\nThe event hub.\n{"tree_size": 3}\n', encoding="utf-8")
    binary = tmp_path / "photo.jpg"
    binary.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)))

    for wrong, why in ((readme, "; line 1, the first: "), (binary, "")):
        text_mode = kawal(tmp_path, store, keys_file, "audit", "verify", "--heads", str(wrong))
        assert text_mode.returncode == EXIT_ERROR, text_mode.stderr
        assert text_mode.stdout == ""
        [said] = text_mode.stderr.splitlines()
        assert said.startswith(
            f"kawal: {wrong} is not a heads file (no line is a signed tree head); give the file "
            "a connector keeps its heads in, KAWAL_HOME/connectors/<connector>.heads.jsonl" + why
        )
    as_json = kawal(tmp_path, store, keys_file, "audit", "verify", "--heads", str(readme), "--json")
    assert as_json.returncode == EXIT_ERROR
    assert "is not a heads file" in json.loads(as_json.stdout)["error"]


def test_a_heads_file_with_a_bad_line_reports_that_line(
    store: AuditStore, ring: KeyRing, tmp_path: Path
) -> None:
    institution = keeping(store, tmp_path, ring)
    with institution.path.open("a", encoding="utf-8") as kept:
        kept.write("{not json\n")
    keys_file = tmp_path / "keys.toml"
    keys_file.write_text(registry_toml(ring), encoding="utf-8")

    shown = kawal(tmp_path, store, keys_file, "audit", "verify", "--heads", str(institution.path))

    assert shown.returncode == EXIT_UNVERIFIED
    [unreadable] = [line for line in shown.stdout.splitlines() if "head_unreadable" in line]
    assert unreadable.startswith("head_unreadable: head 4: ")
    assert "1 findings in 4 kept heads, against a log of 9 entries" in shown.stdout


def test_the_proof_command_shows_a_case_head_in_the_latest_head(
    store: AuditStore, ring: KeyRing, tmp_path: Path
) -> None:
    grow(store, ring)
    keys_file = tmp_path / "keys.toml"
    keys_file.write_text(registry_toml(ring), encoding="utf-8")
    proven = kawal(tmp_path, store, keys_file, "audit", "proof", CASE, "--json")
    assert proven.returncode == EXIT_OK, proven.stderr
    result = json.loads(proven.stdout)
    assert (result["seq"], result["log_index"], result["tree_size"]) == (5, 8, 9)
    assert result["verified"] is True
    # The head is an object, the line a keeper keeps (docs/tree-heads.md), not a JSON string.
    assert isinstance(result["head"], dict)
    assert SignedTreeHead.from_json(json.dumps(result["head"])).tree_size == 9
    assert result["head"]["root_hash"] == result["root_hash"]
    text_form = kawal(tmp_path, store, keys_file, "audit", "proof", CASE)
    assert "proof verified" in text_form.stdout
    unknown = kawal(tmp_path, store, keys_file, "audit", "proof", str(uuid.uuid4()))
    assert unknown.returncode == EXIT_UNKNOWN_CASE
    store.insert(signed_rows(ring, CASE, 1, start=6))
    not_yet = kawal(tmp_path, store, keys_file, "audit", "proof", CASE)
    assert not_yet.returncode == EXIT_UNVERIFIED
    assert "in no signed head yet" in not_yet.stderr
    # The entry a receipt named, in the head kept then: still proven.
    kept = kawal(
        tmp_path, store, keys_file, "audit", "proof", CASE, "--seq", "5", "--tree-size", "9"
    )
    assert kept.returncode == EXIT_OK, kept.stderr
    assert "proof verified" in kept.stdout
    for option, value, said in (
        ("--seq", "99", "no entry seq 99"),
        ("--tree-size", "4", "no head of 4"),
    ):
        refused = kawal(tmp_path, store, keys_file, "audit", "proof", CASE, option, value)
        assert (refused.returncode, said in refused.stderr) == (EXIT_UNKNOWN_CASE, True)


def keeping(store: AuditStore, tmp_path: Path, ring: KeyRing) -> Institution:
    """An institution, its files under ``tmp_path``, that kept the three heads of :func:`grow`."""
    institution = Institution(tmp_path, ring)
    for head in grow(store, ring)[1]:
        institution.receive(head)
    return institution


def institution_keeping(
    store: AuditStore, tmp_path: Path, ring: KeyRing
) -> tuple[Institution, Path]:
    """An institution that kept the three heads :func:`grow` signs, and the key registry file."""
    institution = keeping(store, tmp_path, ring)
    keys_file = tmp_path / "keys.toml"
    keys_file.write_text(registry_toml(ring), encoding="utf-8")
    return institution, keys_file


def grow_differently(store: AuditStore, ring: KeyRing) -> tuple[HeadIssuer, list[SignedTreeHead]]:
    """The same sizes as :func:`grow`, another history: what a second institution was shown."""
    issuer = HeadIssuer(store, ring.signing_key(HUB_INSTITUTION, NOW))
    heads = []
    store.insert(signed_rows(ring, CASE, 3, variant="-b"))
    heads.append(issuer.issue(NOW))
    store.insert(signed_rows(ring, OTHER, 4, variant="-b"))
    heads.append(issuer.issue(NOW + timedelta(seconds=10)))
    store.insert(signed_rows(ring, CASE, 2, start=4, variant="-b"))
    heads.append(issuer.issue(NOW + timedelta(seconds=20)))
    return issuer, [head for head in heads if head is not None]


def kawal(tmp_path: Path, store: AuditStore, keys_file: Path, *argv: str) -> Ran:
    """``kawal ARGV`` against ``store`` and the keys in ``keys_file``, run in this process.

    In this process rather than as one: the command is the same, without the two seconds a
    fresh interpreter spends importing the hub for each run.
    """
    settings = {
        "KAWAL_HOME": str(tmp_path / "home"),
        "KAWAL_AUDIT_DB_URL": store.engine.url.render_as_string(hide_password=False),
        "KAWAL_KEYS_FILE": str(keys_file),
    }
    out, err = io.StringIO(), io.StringIO()
    with patch.dict(os.environ, settings), redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return Ran(code, out.getvalue(), err.getvalue())
