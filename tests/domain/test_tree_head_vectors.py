"""The tree vectors of docs/signing-vectors.json, recomputed from their leaves.

Each output is checked twice: with plain hashlib, fastavro and cryptography calls following
docs/tree-heads.md and RFC 9162, as an auditor's own verifier computes it, and through the
hub's own functions, so neither the page nor the hub can drift from what a keeper checks.
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fastavro
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastavro.schema import fingerprint, load_schema, to_parsing_canonical_form

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from schemas.statements import DIRECTORY, TREE_HEAD
from streams.domain.keys import KeyEntry, KeyRegistry
from streams.domain.merkle import MerkleLog, verify_consistency, verify_inclusion
from streams.domain.tree_heads import SignedTreeHead, extension_problem, signature_problem

ROOT = Path(__file__).parents[2]
VECTORS = ROOT / "docs" / "signing-vectors.json"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(VECTORS.read_text(encoding="utf-8"))
    return loaded


def unhex(items: list[str]) -> list[bytes]:
    return [bytes.fromhex(item) for item in items]


def plain_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def plain_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1: the Merkle tree hash of ``leaves`` (their data, not their hashes)."""
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    split = 1 << ((len(leaves) - 1).bit_length() - 1)
    return plain_node(plain_root(leaves[:split]), plain_root(leaves[split:]))


def plain_inclusion_root(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root an inclusion proof leads to."""
    fn, sn, result = index, size - 1, hashlib.sha256(b"\x00" + leaf).digest()
    for item in proof:
        if fn & 1 or fn == sn:
            result = plain_node(item, result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = plain_node(result, item)
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0
    return result


def plain_consistent(old: int, new: int, old_root: bytes, root: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 §2.1.4.2, for 0 < ``old`` < ``new``."""
    if old & (old - 1) == 0:
        proof = [old_root, *proof]
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first = second = proof[0]
    for item in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            first, second = plain_node(item, first), plain_node(item, second)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            second = plain_node(second, item)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and first == old_root and second == root


def test_the_first_leaf_is_the_vector_entry_and_leaf_hashes_prefix_a_zero_byte(
    vectors: dict[str, Any],
) -> None:
    tree = vectors["tree"]
    assert tree["leaves"][0] == vectors["entry"]["hash"]
    plain = [hashlib.sha256(b"\x00" + leaf).hexdigest() for leaf in unhex(tree["leaves"])]
    assert plain == tree["leaf_hashes"]
    log = MerkleLog(unhex(tree["leaves"]))
    assert [log.leaf_hash(i).hex() for i in range(len(log))] == tree["leaf_hashes"]


def test_each_head_root_is_the_merkle_tree_hash_of_its_first_leaves(
    vectors: dict[str, Any],
) -> None:
    leaves = unhex(vectors["tree"]["leaves"])
    for head in vectors["tree"]["heads"]:
        size = head["tree_size"]
        assert plain_root(leaves[:size]).hex() == head["root_hash"]
        assert MerkleLog(leaves).root(size).hex() == head["root_hash"]


def test_each_head_statement_and_signature(vectors: dict[str, Any]) -> None:
    schema = fastavro.parse_schema(
        json.loads((DIRECTORY / f"{TREE_HEAD}.avsc").read_text(encoding="utf-8"))
    )
    hub = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(vectors["hub"]["private_key_seed"]))
    for head in vectors["tree"]["heads"]:
        out = io.BytesIO()
        fastavro.schemaless_writer(
            out,
            schema,
            {
                "tree_size": head["tree_size"],
                "root_hash": bytes.fromhex(head["root_hash"]),
                "issued_at": head["issued_at_ms"],
            },
        )
        assert out.getvalue().hex() == head["statement"]
        signature = hub.sign(b"kawal.tree_head.v1\x00" + out.getvalue())
        assert signature.hex() == head["signature"]


def test_the_hub_takes_each_kept_line_as_the_head_it_signed(vectors: dict[str, Any]) -> None:
    hub = vectors["hub"]
    public = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(hub["private_key_seed"]))
    registry = KeyRegistry(
        [KeyEntry(hub["key_id"], hub["institution"], public.public_key(), EPOCH)]
    )
    heads = [SignedTreeHead.from_json(head["kept"]) for head in vectors["tree"]["heads"]]
    for head, described in zip(heads, vectors["tree"]["heads"], strict=True):
        assert head.to_json() == described["kept"]
        assert head.statement().hex() == described["statement"]
        assert head.issued_at == EPOCH + timedelta(milliseconds=described["issued_at_ms"])
        assert signature_problem(head, registry) is None
    assert extension_problem(heads[0], heads[1]) is None


def test_the_consistency_proof_shows_the_first_head_is_a_prefix_of_the_second(
    vectors: dict[str, Any],
) -> None:
    old, new = vectors["tree"]["heads"]
    assert new["previous_size"] == old["tree_size"]
    args = (
        old["tree_size"],
        new["tree_size"],
        bytes.fromhex(old["root_hash"]),
        bytes.fromhex(new["root_hash"]),
        unhex(new["consistency"]),
    )
    assert plain_consistent(*args)
    assert verify_consistency(*args)
    assert MerkleLog(unhex(vectors["tree"]["leaves"])).consistency_proof(3, 7) == args[4]


@pytest.mark.parametrize("name", ["inclusion", "inclusion_last"])
def test_the_inclusion_proofs_lead_to_the_signed_root(vectors: dict[str, Any], name: str) -> None:
    tree = vectors["tree"]
    proof = tree[name]
    root = next(h["root_hash"] for h in tree["heads"] if h["tree_size"] == proof["tree_size"])
    leaf = bytes.fromhex(tree["leaves"][proof["index"]])
    steps = unhex(proof["proof"])
    assert plain_inclusion_root(proof["index"], proof["tree_size"], leaf, steps).hex() == root
    leaf_hash = bytes.fromhex(tree["leaf_hashes"][proof["index"]])
    assert verify_inclusion(
        proof["index"], proof["tree_size"], leaf_hash, steps, bytes.fromhex(root)
    )


def test_the_heads_record_is_the_second_head_in_single_object_encoding(
    vectors: dict[str, Any],
) -> None:
    record = bytes.fromhex(vectors["tree"]["heads_record"])
    schema = load_schema(str(ROOT / "schemas" / "avro" / "kawal.TreeHead.avsc"))
    canonical = to_parsing_canonical_form(schema)
    assert record[:10].hex() == "c301" + fingerprint(canonical, "CRC-64-AVRO")
    plain = fastavro.schemaless_reader(io.BytesIO(record[10:]), schema)
    assert isinstance(plain, dict)
    kept = json.loads(vectors["tree"]["heads"][1]["kept"])
    assert plain["signature"].hex() == kept["signature"]
    assert plain["issued_at"].isoformat(timespec="milliseconds") == kept["issued_at"]
    plain_fields = {k: v for k, v in plain.items() if k not in ("signature", "issued_at")}
    assert plain_fields == {k: v for k, v in kept.items() if k not in ("signature", "issued_at")}
    decoded = AvroCodec(default_catalog()).decode(record)
    assert SignedTreeHead.from_record(decoded.record).to_json() == kept_line(vectors, 1)


def kept_line(vectors: dict[str, Any], index: int) -> str:
    line: str = vectors["tree"]["heads"][index]["kept"]
    return line


def test_a_tampered_proof_does_not_verify(vectors: dict[str, Any]) -> None:
    old, new = vectors["tree"]["heads"]
    proof = unhex(new["consistency"])
    proof[1] = bytes([proof[1][0] ^ 1]) + proof[1][1:]
    old_root, root = bytes.fromhex(old["root_hash"]), bytes.fromhex(new["root_hash"])
    assert not plain_consistent(3, 7, old_root, root, proof)
    assert not verify_consistency(3, 7, old_root, root, proof)
