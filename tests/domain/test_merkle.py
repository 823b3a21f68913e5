"""The Merkle log against the RFC 6962 reference vectors, and every proof up to 40 leaves."""

from __future__ import annotations

import hashlib

import pytest

from streams.domain.merkle import (
    EMPTY_ROOT,
    MEMO_LEAVES,
    MerkleLog,
    consistency_ranges,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)

# The 8-leaf tree of the certificate-transparency reference tests (RFC 6962 hashing), as
# transparency-dev/merkle's proof/verify_test.go lists it.
LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index from 0, tree size, audit path)
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# (old size, new size, consistency proof)
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def hexes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(value) for value in values]


def reference_root(data: list[bytes]) -> bytes:
    """MTH of RFC 9162 §2.1.1, written the RFC's way, to check the memoized log against."""
    if not data:
        return hashlib.sha256(b"").digest()
    if len(data) == 1:
        return leaf_hash(data[0])
    split = 1 << ((len(data) - 1).bit_length() - 1)
    return node_hash(reference_root(data[:split]), reference_root(data[split:]))


def tampered(proof: list[bytes]) -> list[list[bytes]]:
    """Every way of spoiling a proof the reference tests try that still has hash-sized items."""
    spoiled = [[*proof, SOME_HASH], [SOME_HASH, *proof]]
    if proof:
        spoiled.append(proof[:-1])
        spoiled.append(proof[1:])
        spoiled.append([*proof, proof[0]])
    for index in range(len(proof)):
        flipped = list(proof)
        flipped[index] = bytes([proof[index][0] ^ 0x08]) + proof[index][1:]
        spoiled.append(flipped)
    if len(proof) > 1:
        spoiled.append([proof[1], proof[0], *proof[2:]])
    return spoiled


def test_the_roots_of_the_reference_tree() -> None:
    log = MerkleLog(LEAVES)
    assert [log.root(size).hex() for size in range(1, 9)] == ROOTS
    assert log.root(0) == EMPTY_ROOT
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_the_reference_inclusion_proofs(index: int, size: int, path: list[str]) -> None:
    log = MerkleLog(LEAVES)
    assert log.inclusion_proof(index, size) == hexes(path)
    root = bytes.fromhex(ROOTS[size - 1])
    leaf = leaf_hash(LEAVES[index])
    assert verify_inclusion(index, size, leaf, hexes(path), root)
    assert root_from_inclusion(index, size, leaf, hexes(path)) == root
    for wrong in tampered(hexes(path)):
        assert not verify_inclusion(index, size, leaf, wrong, root)
    assert not verify_inclusion(index + 1, size, leaf, hexes(path), root)
    assert not verify_inclusion(index, size * 2, leaf, hexes(path), root)
    assert not verify_inclusion(index, size, leaf_hash(b"wrong"), hexes(path), root)
    assert not verify_inclusion(index, size, leaf, hexes(path), EMPTY_ROOT)


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_the_reference_consistency_proofs(old: int, new: int, proof: list[str]) -> None:
    log = MerkleLog(LEAVES)
    assert log.consistency_proof(old, new) == hexes(proof)
    old_root, new_root = bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1])
    assert verify_consistency(old, new, old_root, new_root, hexes(proof))
    if old == new:
        return
    for wrong in tampered(hexes(proof)):
        assert not verify_consistency(old, new, old_root, new_root, wrong)
    assert not verify_consistency(old, new, new_root, old_root, hexes(proof))
    assert not verify_consistency(old, new, old_root, new_root, [])
    assert not verify_consistency(old - 1, new, old_root, new_root, hexes(proof))
    assert not verify_consistency(old + 1, new, old_root, new_root, hexes(proof))
    assert not verify_consistency(old, new * 2, old_root, new_root, hexes(proof))


def test_every_inclusion_proof_up_to_40_leaves_verifies_and_no_spoiled_one_does() -> None:
    data = [f"entry {n}".encode() for n in range(40)]
    log = MerkleLog(data)
    for size in range(1, 41):
        root = reference_root(data[:size])
        assert log.root(size) == root
        for index in range(size):
            proof = log.inclusion_proof(index, size)
            leaf = log.leaf_hash(index)
            assert verify_inclusion(index, size, leaf, proof, root)
            for wrong in tampered(proof):
                assert not verify_inclusion(index, size, leaf, wrong, root)
            other = (index + 1) % size
            if other != index:
                assert not verify_inclusion(other, size, leaf, proof, root)


def test_every_consistency_proof_up_to_40_leaves_verifies_and_no_spoiled_one_does() -> None:
    data = [f"entry {n}".encode() for n in range(40)]
    log = MerkleLog(data)
    for new in range(1, 41):
        new_root = log.root(new)
        for old in range(0, new + 1):
            old_root = log.root(old)
            proof = log.consistency_proof(old, new)
            assert verify_consistency(old, new, old_root, new_root, proof)
            if old in (0, new):
                continue
            for wrong in tampered(proof):
                assert not verify_consistency(old, new, old_root, new_root, wrong)
            # A tree of the same size with one leaf changed is not a prefix.
            forked = MerkleLog([*data[: old - 1], b"forged", *data[old:new]])
            assert not verify_consistency(old, new, forked.root(old), new_root, proof)


def test_remembered_subtrees_give_the_roots_the_rfc_defines() -> None:
    data = [n.to_bytes(4, "big") for n in range(3 * MEMO_LEAVES + 5)]
    log = MerkleLog()
    for size, item in enumerate(data, start=1):
        log.append(item)
        # Roots taken while the log grows must not be spoiled by what it remembered.
        if size % 97 == 0 or size in (MEMO_LEAVES, 2 * MEMO_LEAVES, len(data)):
            assert log.root() == reference_root(data[:size])
    assert log.root(MEMO_LEAVES + 1) == reference_root(data[: MEMO_LEAVES + 1])
    proof = log.consistency_proof(MEMO_LEAVES + 3)
    assert verify_consistency(
        MEMO_LEAVES + 3, len(log), log.root(MEMO_LEAVES + 3), log.root(), proof
    )


def test_the_empty_tree_is_a_prefix_of_every_tree_and_a_tree_only_of_itself() -> None:
    log = MerkleLog(LEAVES)
    assert verify_consistency(0, 8, EMPTY_ROOT, log.root(), [])
    assert not verify_consistency(0, 8, EMPTY_ROOT, log.root(), [SOME_HASH])
    assert verify_consistency(8, 8, log.root(), log.root(), [])
    assert not verify_consistency(8, 8, log.root(), log.root(7), [])
    assert not verify_consistency(8, 7, log.root(), log.root(7), log.consistency_proof(7))


def test_malformed_inputs_are_refused_not_raised() -> None:
    log = MerkleLog(LEAVES)
    proof = log.inclusion_proof(2, 8)
    assert not verify_inclusion(8, 8, log.leaf_hash(2), proof, log.root())
    assert not verify_inclusion(-1, 8, log.leaf_hash(2), proof, log.root())
    assert not verify_inclusion(2, 8, b"short", proof, log.root())
    assert not verify_inclusion(2, 8, log.leaf_hash(2), [b"short", *proof[1:]], log.root())
    consistency = log.consistency_proof(3)
    assert not verify_consistency(3, 8, log.root(3), log.root(), [b"", *consistency])
    assert not verify_consistency(-1, 8, log.root(3), log.root(), consistency)


def test_proofs_beyond_the_log_are_programming_errors() -> None:
    log = MerkleLog(LEAVES[:3])
    with pytest.raises(ValueError, match="no leaf 3"):
        log.inclusion_proof(3)
    with pytest.raises(ValueError, match="has 3 leaves"):
        log.root(4)
    with pytest.raises(ValueError, match="no consistency proof"):
        log.consistency_proof(4, 3)


def test_each_consistency_proof_node_is_the_subtree_its_range_names() -> None:
    log = MerkleLog(bytes([index]) for index in range(40))
    for size in range(2, 41):
        for old in range(1, size):
            spans = consistency_ranges(old, size)
            proof = log.consistency_proof(old, size)
            assert [log.subtree(*span) for span in spans] == proof, (old, size)
    assert consistency_ranges(0, 5) == consistency_ranges(5, 5) == []
    with pytest.raises(ValueError, match="no subtree of leaves 3 to 2"):
        log.subtree(3, 3)
