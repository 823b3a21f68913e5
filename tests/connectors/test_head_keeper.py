"""The connectors' head keeper: what it keeps, and every head it refuses without raising."""

from __future__ import annotations

import dataclasses
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.heads import NOT_WRITTEN, HeadFileError, HeadKeeper
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keyring import KeyRing
from streams.domain.merkle import MerkleLog
from streams.domain.signing import SigningKey
from streams.domain.tree_heads import (
    TREE_HEAD_RECORD,
    HeadProblem,
    SignedTreeHead,
    issue_head,
)

VALID_FROM = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
CODEC = AvroCodec(default_catalog())
LOG = MerkleLog(f"entry {n}".encode() for n in range(12))
FORKED = MerkleLog([b"forged", *(f"entry {n}".encode() for n in range(1, 12))])


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generated([HUB_INSTITUTION, "bkn"], VALID_FROM)


def hub(ring: KeyRing) -> SigningKey:
    return ring.signing_key(HUB_INSTITUTION, NOW)


def head(
    key: SigningKey, size: int, previous: int = 0, log: MerkleLog = LOG, seconds: int = 0
) -> SignedTreeHead:
    proof = log.consistency_proof(previous, size)
    issued = NOW + timedelta(seconds=seconds)
    return issue_head(key, size, log.root(size), issued, previous, proof)


def record(signed: SignedTreeHead) -> dict[str, Any]:
    """The head as a connector decodes it from ``kawal.heads``."""
    return CODEC.decode(CODEC.encode(TREE_HEAD_RECORD, signed.to_record())).record


@pytest.fixture
def keeper(tmp_path: Path, ring: KeyRing) -> HeadKeeper:
    return HeadKeeper(tmp_path / "kept" / "heads.jsonl", ring.registry)


def kept(keeper: HeadKeeper) -> list[SignedTreeHead]:
    lines = keeper.path.read_text(encoding="utf-8").splitlines()
    return [SignedTreeHead.from_json(line) for line in lines]


def test_heads_that_extend_each_other_are_kept_in_order(keeper: HeadKeeper, ring: KeyRing) -> None:
    heads = [head(hub(ring), 3), head(hub(ring), 8, 3, seconds=10), head(hub(ring), 12, 8)]
    for signed in heads:
        assert keeper.keep(record(signed)) is None
    assert kept(keeper) == heads
    assert keeper.last == heads[-1]


def test_a_head_received_again_is_not_kept_twice(keeper: HeadKeeper, ring: KeyRing) -> None:
    first, second = head(hub(ring), 3), head(hub(ring), 8, 3)
    for signed in (first, second, first, second):
        assert keeper.keep(record(signed)) is None
    assert kept(keeper) == [first, second]


def test_a_restarted_keeper_goes_on_from_its_file(tmp_path: Path, ring: KeyRing) -> None:
    path = tmp_path / "heads.jsonl"
    first = HeadKeeper(path, ring.registry)
    assert first.keep(record(head(hub(ring), 3))) is None
    again = HeadKeeper(path, ring.registry)
    assert again.last == head(hub(ring), 3)
    assert again.keep(record(head(hub(ring), 8, 3))) is None
    refusal = again.keep(record(head(hub(ring), 3, log=FORKED)))
    assert refusal is not None
    assert refusal.code == HeadProblem.FORK


def test_an_unsigned_head_is_refused(keeper: HeadKeeper, ring: KeyRing) -> None:
    unsigned = dataclasses.replace(head(hub(ring), 3), signature=b"")
    refusal = keeper.keep(record(unsigned))
    assert refusal is not None
    assert refusal.code == HeadProblem.UNSIGNED
    assert not keeper.path.exists()


def test_a_head_signed_by_another_key_is_refused(keeper: HeadKeeper, ring: KeyRing) -> None:
    institution = ring.signing_key("bkn", NOW)
    refusal = keeper.keep(record(head(institution, 3)))
    assert refusal is not None
    assert refusal.code == "hub_key_of_another_institution"
    stranger = KeyRing.generated([HUB_INSTITUTION], VALID_FROM).signing_key(HUB_INSTITUTION, NOW)
    refusal = keeper.keep(record(head(stranger, 3)))
    assert refusal is not None
    assert refusal.code == "hub_unknown_key"
    assert not keeper.path.exists()


def test_a_head_with_a_signature_that_does_not_hold_is_refused(
    keeper: HeadKeeper, ring: KeyRing
) -> None:
    forged = dataclasses.replace(head(hub(ring), 3), root_hash=LOG.root(4))
    refusal = keeper.keep(record(forged))
    assert refusal is not None
    assert refusal.code == HeadProblem.SIGNATURE_INVALID


def test_a_head_that_does_not_extend_the_last_kept_is_a_fork(
    keeper: HeadKeeper, ring: KeyRing
) -> None:
    assert keeper.keep(record(head(hub(ring), 3))) is None
    # Signed by the hub, proving from size 3, but of a history whose first leaf differs.
    refusal = keeper.keep(record(head(hub(ring), 8, 3, log=FORKED)))
    assert refusal is not None
    assert refusal.code == HeadProblem.FORK
    same_size = keeper.keep(record(head(hub(ring), 3, log=FORKED)))
    assert same_size is not None
    assert same_size.code == HeadProblem.FORK
    assert kept(keeper) == [head(hub(ring), 3)]


def test_a_head_proving_from_a_head_not_kept_is_refused(keeper: HeadKeeper, ring: KeyRing) -> None:
    assert keeper.keep(record(head(hub(ring), 3))) is None
    refusal = keeper.keep(record(head(hub(ring), 12, 8)))
    assert refusal is not None
    assert refusal.code == HeadProblem.NOT_AFTER_LAST_KEPT
    assert keeper.keep(record(head(hub(ring), 8, 3))) is None
    older = keeper.keep(record(head(hub(ring), 5, 3)))
    assert older is not None
    assert older.code == HeadProblem.NOT_AFTER_LAST_KEPT


def test_a_malformed_record_is_refused(keeper: HeadKeeper, ring: KeyRing) -> None:
    bad = record(head(hub(ring), 3)) | {"root_hash": "not hex"}
    refusal = keeper.keep(bad)
    assert refusal is not None
    assert refusal.code == HeadProblem.MALFORMED
    missing = {k: v for k, v in record(head(hub(ring), 3)).items() if k != "tree_size"}
    refusal = keeper.keep(missing)
    assert refusal is not None
    assert refusal.code == HeadProblem.MALFORMED


def test_a_head_that_cannot_be_written_is_refused_and_may_come_again(
    tmp_path: Path, ring: KeyRing
) -> None:
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    keeper = HeadKeeper(blocker / "heads.jsonl", ring.registry)
    refusal = keeper.keep(record(head(hub(ring), 3)))
    assert refusal is not None
    assert refusal.code == NOT_WRITTEN
    assert keeper.last is None


def test_the_kept_heads_are_the_institutions_alone(keeper: HeadKeeper, ring: KeyRing) -> None:
    assert keeper.keep(record(head(hub(ring), 3))) is None
    assert stat.S_IMODE(keeper.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(keeper.path.parent.stat().st_mode) == 0o700


def test_a_heads_file_that_is_a_link_is_not_written_through(tmp_path: Path, ring: KeyRing) -> None:
    elsewhere = tmp_path / "elsewhere.jsonl"
    elsewhere.write_text("", encoding="utf-8")
    link = tmp_path / "heads.jsonl"
    link.symlink_to(elsewhere)
    keeper = HeadKeeper(link, ring.registry)
    refusal = keeper.keep(record(head(hub(ring), 3)))
    assert refusal is not None
    assert refusal.code == NOT_WRITTEN
    assert "symbolic link" in refusal.detail
    assert elsewhere.read_text(encoding="utf-8") == ""


def test_a_damaged_file_of_kept_heads_stops_the_keeper(tmp_path: Path, ring: KeyRing) -> None:
    path = tmp_path / "heads.jsonl"
    path.write_text(head(hub(ring), 3).to_json() + "\n{damaged\n", encoding="utf-8")
    with pytest.raises(HeadFileError, match="line 2 of"):
        HeadKeeper(path, ring.registry)
