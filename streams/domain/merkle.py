"""An append-only Merkle log with RFC 9162 hashing, inclusion and consistency proofs.

The hub's tree over every trail entry (docs/tree-heads.md): leaf *i* is the *i*-th entry the
audit store took, its data the entry's 32-byte hash. Hashing is RFC 9162 §2.1.1 (RFC 6962
§2.1): ``leaf = SHA-256(0x00 ‖ data)``, ``node = SHA-256(0x01 ‖ left ‖ right)``, the left
subtree of *n* leaves holding the largest power of two below *n*. Proofs are the RFC's lists of
32-byte hashes (§2.1.3 inclusion, §2.1.4 consistency), so any RFC 9162 verifier in any language
checks them; the verifiers here are the RFC's own algorithms (§2.1.3.2, §2.1.4.2).

Written here rather than taken from a library: the one maintained Python candidate, pymerkle
7.0.0, is GPL-3.0-or-later, ships no type information and encodes its proofs in its own format
(a bit rule beside the path), which another RFC 9162 verifier could not read.

Example:
    >>> log = MerkleLog([b"a", b"b", b"c"])
    >>> proof = log.consistency_proof(2)
    >>> verify_consistency(2, 3, log.root(2), log.root(), proof)
    True
    >>> verify_inclusion(1, 3, leaf_hash(b"b"), log.inclusion_proof(1), log.root())
    True
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_BYTES = 32
#: Root of the empty tree: SHA-256 of nothing (RFC 9162 §2.1.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()
#: Perfect subtrees of at least this many leaves are remembered once complete: they never
#: change in an append-only log, so a root or proof costs a few hundred hashes, not one per
#: leaf, for a memory of 64 bytes per 256 leaves.
MEMO_LEAVES = 256

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """The hash of a leaf holding ``data``."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node over two subtree hashes."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(size: int) -> int:
    """Leaves of the left subtree of ``size`` (> 1) leaves: the largest power of two below."""
    return 1 << ((size - 1).bit_length() - 1)


class MerkleLog:
    """The leaf hashes of an append-only log, with roots and proofs at any of its sizes."""

    def __init__(self, data: Iterable[bytes] = ()) -> None:
        """A log whose leaves hold ``data``, in order."""
        # Leaf hashes back to back: 32 bytes per leaf, not a Python object each.
        self._leaves = bytearray()
        self._memo: dict[tuple[int, int], bytes] = {}
        self.extend(data)

    def __len__(self) -> int:
        return len(self._leaves) // HASH_BYTES

    def append(self, data: bytes) -> int:
        """Add a leaf holding ``data``; return its index."""
        self._leaves += leaf_hash(data)
        return len(self) - 1

    def extend(self, data: Iterable[bytes]) -> None:
        """Add a leaf for each of ``data``, in order."""
        for item in data:
            self._leaves += leaf_hash(item)

    def leaf_hash(self, index: int) -> bytes:
        """The hash of leaf ``index``."""
        self._check_index(index, len(self))
        return bytes(self._leaves[index * HASH_BYTES : (index + 1) * HASH_BYTES])

    def root(self, size: int | None = None) -> bytes:
        """The tree hash of the first ``size`` leaves (all by default)."""
        size = self._size(size)
        return self._subtree(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf ``index`` in the tree of the first ``size`` leaves."""
        size = self._size(size)
        self._check_index(index, size)
        return self._path(index, 0, size)

    def consistency_proof(self, old_size: int, size: int | None = None) -> list[bytes]:
        """The proof that the tree of ``old_size`` leaves is a prefix of that of ``size``.

        Empty when ``old_size`` is 0 or ``size``: the RFC defines no proof from the empty tree,
        whose root every tree extends.
        """
        size = self._size(size)
        if not 0 <= old_size <= size:
            raise ValueError(f"no consistency proof from {old_size} to {size} leaves")
        if old_size in (0, size):
            return []
        return self._subproof(old_size, 0, size, complete=True)

    def subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]): the hash of the leaves ``start`` to ``end - 1``."""
        self._check_index(start, len(self))
        self._check_index(end - 1, len(self))
        if end <= start:
            raise ValueError(f"no subtree of leaves {start} to {end - 1}")
        return self._subtree(start, end)

    def _size(self, size: int | None) -> int:
        if size is None:
            return len(self)
        if not 0 <= size <= len(self):
            raise ValueError(f"the log has {len(self)} leaves, not {size}")
        return size

    @staticmethod
    def _check_index(index: int, size: int) -> None:
        if not 0 <= index < size:
            raise ValueError(f"no leaf {index} in a tree of {size} leaves")

    def _subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]), from memory when it is a remembered perfect subtree."""
        width = end - start
        if width == 1:
            return self.leaf_hash(start)
        remembered = width >= MEMO_LEAVES and width & (width - 1) == 0
        if remembered and (found := self._memo.get((start, width))) is not None:
            return found
        middle = start + _split(width)
        value = node_hash(self._subtree(start, middle), self._subtree(middle, end))
        if remembered:
            self._memo[start, width] = value
        return value

    def _path(self, index: int, start: int, end: int) -> list[bytes]:
        """PATH(index, D[start:end]) of RFC 9162 §2.1.3.1, ``index`` counted from ``start``."""
        if end - start == 1:
            return []
        middle = start + _split(end - start)
        if start + index < middle:
            return [*self._path(index, start, middle), self._subtree(middle, end)]
        return [*self._path(index - (middle - start), middle, end), self._subtree(start, middle)]

    def _subproof(self, old: int, start: int, end: int, *, complete: bool) -> list[bytes]:
        """SUBPROOF(old, D[start:end], complete) of RFC 9162 §2.1.4.1."""
        width = end - start
        if old == width:
            return [] if complete else [self._subtree(start, end)]
        middle = start + _split(width)
        left = middle - start
        if old <= left:
            return [
                *self._subproof(old, start, middle, complete=complete),
                self._subtree(middle, end),
            ]
        return [
            *self._subproof(old - left, middle, end, complete=False),
            self._subtree(start, middle),
        ]


def consistency_ranges(old_size: int, size: int) -> list[tuple[int, int]]:
    """The leaves ``[start, end)`` each node of the consistency proof from ``old_size`` covers.

    In the order :meth:`MerkleLog.consistency_proof` gives the nodes: a proof's nodes, once it
    verifies against a signed root, are the hashes of these subtrees in that signed tree.
    """
    if not 0 < old_size < size:
        return []
    return _proof_ranges(old_size, 0, size, complete=True)


def _proof_ranges(old: int, start: int, end: int, *, complete: bool) -> list[tuple[int, int]]:
    """The subtrees of SUBPROOF(old, D[start:end], complete), as :meth:`MerkleLog._subproof`."""
    width = end - start
    if old == width:
        return [] if complete else [(start, end)]
    middle = start + _split(width)
    left = middle - start
    if old <= left:
        return [*_proof_ranges(old, start, middle, complete=complete), (middle, end)]
    return [*_proof_ranges(old - left, middle, end, complete=False), (start, middle)]


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes | None:
    """The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or None if it cannot hold."""
    if not 0 <= index < size or len(leaf) != HASH_BYTES:
        return None
    if any(len(item) != HASH_BYTES for item in proof):
        return None
    fn, sn, result = index, size - 1, leaf
    for item in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            result = node_hash(item, result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, item)
        fn, sn = fn >> 1, sn >> 1
    return result if sn == 0 else None


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows the leaf hash ``leaf`` at ``index`` in the tree ``root``."""
    return root_from_inclusion(index, size, leaf, proof) == root


def verify_consistency(
    old_size: int, size: int, old_root: bytes, root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree ``old_root`` is a prefix of the tree ``root``.

    RFC 9162 §2.1.4.2, ``old_root`` being of ``old_size`` leaves and ``root`` of ``size``.
    The empty tree is a prefix of every tree, with an empty proof; a tree is consistent with
    itself with an empty proof only.
    """
    if not 0 <= old_size <= size or any(len(item) != HASH_BYTES for item in proof):
        return False
    if old_size == 0:
        return not proof
    if old_size == size:
        return not proof and old_root == root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # The old tree is a perfect subtree of the new one: its root is the path's first node.
        path.insert(0, old_root)
    fn, sn = old_size - 1, size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    old_result = new_result = path[0]
    for item in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            old_result = node_hash(item, old_result)
            new_result = node_hash(item, new_result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            new_result = node_hash(new_result, item)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and old_result == old_root and new_result == root
