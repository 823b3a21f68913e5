"""Signed tree heads: the statement signed, both forms they travel in, and every refusal."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keyring import KeyRing
from streams.domain.keys import KeyEntry, KeyRegistry
from streams.domain.merkle import MerkleLog
from streams.domain.signing import Context, SigningKey
from streams.domain.tree_heads import (
    TREE_HEAD_RECORD,
    HeadFormatError,
    HeadProblem,
    SignedTreeHead,
    extension_problem,
    head_statement,
    issue_head,
    signature_problem,
)

VALID_FROM = datetime(2026, 1, 1, tzinfo=UTC)
ISSUED = datetime(2026, 12, 4, 8, 30, 15, 123456, tzinfo=UTC)
LOG = MerkleLog(f"entry {n}".encode() for n in range(9))


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generated([HUB_INSTITUTION, "bawaslu.33"], VALID_FROM)


def hub_key(ring: KeyRing) -> SigningKey:
    return ring.signing_key(HUB_INSTITUTION, ISSUED)


def head(ring: KeyRing, size: int = 9, previous: int = 5) -> SignedTreeHead:
    proof = LOG.consistency_proof(previous, size)
    return issue_head(hub_key(ring), size, LOG.root(size), ISSUED, previous, proof)


def test_a_head_signs_the_tree_head_statement_to_the_millisecond(ring: KeyRing) -> None:
    issued = head(ring)
    assert issued.issued_at == ISSUED.replace(microsecond=123000)
    assert signature_problem(issued, ring.registry) is None
    statement = head_statement(9, LOG.root(), issued.issued_at)
    assert issued.statement() == statement
    public = hub_key(ring).private.public_key()
    public.verify(issued.signature, Context.TREE_HEAD.value + b"\x00" + statement)


def test_the_record_on_the_topic_and_the_kept_line_give_back_the_same_head(
    ring: KeyRing,
) -> None:
    issued = head(ring)
    codec = AvroCodec(default_catalog())
    decoded = codec.decode(codec.encode(TREE_HEAD_RECORD, issued.to_record()))
    assert decoded.full_name == TREE_HEAD_RECORD
    assert SignedTreeHead.from_record(decoded.record) == issued
    line = issued.to_json()
    assert "\n" not in line
    assert SignedTreeHead.from_json(line) == issued
    assert signature_problem(SignedTreeHead.from_json(line), ring.registry) is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "unreadable head line"),
        ("[" * 100_000 + "]" * 100_000, r"unreadable head line \(RecursionError\)"),
        ("[1, 2]", "must be a JSON object"),
        ('{"tree_size": 1}', "issued_at must be ISO 8601 text with its offset"),
        # Another client's heads file, the record's milliseconds kept: said, not "missing".
        ('{"issued_at": 1796634000000}', "not as the record's milliseconds since the epoch"),
    ],
)
def test_unreadable_lines_are_refused_by_name(line: str, message: str) -> None:
    with pytest.raises(HeadFormatError, match=message):
        SignedTreeHead.from_json(line)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"root_hash": "ab"}, "root_hash holds 1 bytes"),
        ({"root_hash": "zz" * 32}, "root_hash is not hex"),
        ({"tree_size": True}, "tree_size is missing or not of type int"),
        ({"previous_size": 12}, "previous_size must lie between"),
        ({"consistency": ["00" * 31]}, "consistency holds 31 bytes"),
        ({"consistency": [7]}, "consistency holds a value that is not hex"),
        ({"key_id": None}, "key_id is missing"),
        ({"issued_at": datetime(2026, 12, 4)}, "issued_at has no time zone"),  # noqa: DTZ001
    ],
)
def test_malformed_records_are_refused_by_field(
    ring: KeyRing, change: dict[str, object], message: str
) -> None:
    record = head(ring).to_record() | change
    with pytest.raises(HeadFormatError, match=message):
        SignedTreeHead.from_record(record)


def test_an_unsigned_head_is_refused(ring: KeyRing) -> None:
    unsigned = dataclasses.replace(head(ring), signature=b"")
    refusal = signature_problem(unsigned, ring.registry)
    assert refusal is not None
    assert refusal.code == HeadProblem.UNSIGNED


def test_a_head_signed_by_an_institution_is_refused(ring: KeyRing) -> None:
    institution = ring.signing_key("bawaslu.33", ISSUED)
    forged = issue_head(institution, 9, LOG.root(), ISSUED, 5, LOG.consistency_proof(5))
    refusal = signature_problem(forged, ring.registry)
    assert refusal is not None
    assert refusal.code == "hub_key_of_another_institution"


def test_a_head_signed_by_an_unregistered_key_is_refused(ring: KeyRing) -> None:
    stranger = KeyRing.generated([HUB_INSTITUTION], VALID_FROM)
    refusal = signature_problem(head(stranger), ring.registry)
    assert refusal is not None
    assert refusal.code == "hub_unknown_key"


def test_a_head_issued_after_its_key_expired_is_refused(ring: KeyRing) -> None:
    key = hub_key(ring)
    entry = KeyEntry(
        key.key_id, HUB_INSTITUTION, key.private.public_key(), VALID_FROM, ISSUED - timedelta(1)
    )
    refusal = signature_problem(head(ring), KeyRegistry([entry]))
    assert refusal is not None
    assert refusal.code == "hub_key_expired"


def test_a_head_whose_fields_changed_after_signing_is_refused(ring: KeyRing) -> None:
    for change in (
        {"tree_size": 8},
        {"root_hash": LOG.root(8)},
        {"issued_at": ISSUED + timedelta(seconds=1)},
    ):
        altered = dataclasses.replace(head(ring), **change)
        refusal = signature_problem(altered, ring.registry)
        assert refusal is not None
        assert refusal.code == HeadProblem.SIGNATURE_INVALID


def test_a_head_extends_the_one_its_proof_starts_from(ring: KeyRing) -> None:
    earlier = issue_head(hub_key(ring), 5, LOG.root(5), ISSUED, 0, ())
    assert extension_problem(earlier, head(ring, 9, 5)) is None
    assert extension_problem(earlier, earlier) is None


def test_heads_that_do_not_extend_each_other_are_a_fork(ring: KeyRing) -> None:
    other = MerkleLog([b"another", *(f"entry {n}".encode() for n in range(1, 9))])
    earlier = issue_head(hub_key(ring), 5, other.root(5), ISSUED, 0, ())
    refusal = extension_problem(earlier, head(ring, 9, 5))
    assert refusal is not None
    assert refusal.code == HeadProblem.FORK
    same_size = issue_head(hub_key(ring), 9, other.root(9), ISSUED, 0, ())
    refusal = extension_problem(same_size, head(ring, 9, 5))
    assert refusal is not None
    assert refusal.code == HeadProblem.FORK


def test_a_head_proving_from_another_head_shows_nothing(ring: KeyRing) -> None:
    earlier = issue_head(hub_key(ring), 4, LOG.root(4), ISSUED, 0, ())
    refusal = extension_problem(earlier, head(ring, 9, 5))
    assert refusal is not None
    assert refusal.code == HeadProblem.NOT_AFTER_LAST_KEPT
    refusal = extension_problem(head(ring, 9, 5), earlier)
    assert refusal is not None
    assert refusal.code == HeadProblem.NOT_AFTER_LAST_KEPT
