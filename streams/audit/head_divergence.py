"""Where the store's log first leaves what the kept heads committed to.

A kept head commits to the root of its first ``tree_size`` leaves, and its consistency proof
to the hashes of the subtrees that proof is made of (:func:`streams.domain.merkle.
consistency_ranges`), once the proof leads to the head's signed root. Each is a fact about
the history the hub signed: the store's leaves over a range either still hash to it (unchanged
there) or not (changed there). From them, the first changed leaf lies after the longest prefix
known unchanged and before the end of the smallest range known changed. When the two meet,
the first changed entry is known; otherwise only the range is, and a finding says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from streams.audit.row_shapes import is_number
from streams.audit.store import AuditStore
from streams.audit.tree_log import TreeLog
from streams.domain.merkle import MerkleLog, consistency_ranges, verify_consistency
from streams.domain.tree_heads import SignedTreeHead

#: How many of the entries in a range of leaves a finding names.
NAMED_ENTRIES = 3


@dataclass(frozen=True)
class Divergence:
    """The first changed leaf lies among leaves ``start`` to ``end - 1``."""

    start: int
    end: int
    #: The largest kept head (its line and size) the store still matches, if any.
    matched: tuple[int, int] | None

    @property
    def exact(self) -> bool:
        """Whether the kept heads pin the first changed leaf down to one."""
        return self.end - self.start == 1


def first_divergence(
    log: MerkleLog, kept: list[tuple[int, SignedTreeHead]], matching: dict[int, bool]
) -> Divergence | None:
    """Where ``log`` first differs from the kept heads; None if it does not, or they disagree.

    ``matching`` tells, for each kept head's line, whether the log has its root at its size.
    """
    unchanged: list[tuple[int, int]] = []
    changed: list[tuple[int, int]] = []
    for number, head in kept:
        if head.tree_size > len(log) or head.tree_size == 0:
            continue
        (unchanged if matching[number] else changed).append((0, head.tree_size))
        for span, same in _proven_subtrees(log, head):
            (unchanged if same else changed).append(span)
    if not changed:
        return None
    start = _unchanged_prefix(unchanged)
    end = min(stop for _, stop in changed)
    if start >= end:
        # Facts of two histories (a fork): no one place where "the" store changed.
        return None
    below = [(n, h.tree_size) for n, h in kept if matching[n] and h.tree_size <= start]
    matched = max(below, key=lambda item: item[1], default=None)
    return Divergence(start, end, matched)


def _proven_subtrees(
    log: MerkleLog, head: SignedTreeHead
) -> Iterable[tuple[tuple[int, int], bool]]:
    """The subtrees ``head``'s own proof commits to, and whether the log still has each."""
    old = head.previous_size
    if not 0 < old < head.tree_size:
        return []
    # Checked with the store's root at the old size: a proof that leads to the signed root
    # from it binds each of its nodes to that root (and the store's first leaves to the head).
    if not verify_consistency(old, head.tree_size, log.root(old), head.root_hash, head.consistency):
        return []
    spans = consistency_ranges(old, head.tree_size)
    return [
        (span, log.subtree(*span) == node)
        for span, node in zip(spans, head.consistency, strict=True)
    ]


def _unchanged_prefix(unchanged: list[tuple[int, int]]) -> int:
    """How many first leaves the ranges known unchanged cover without a gap."""
    prefix = 0
    for start, stop in sorted(unchanged):
        if start > prefix:
            break
        prefix = max(prefix, stop)
    return prefix


def where_changed(store: AuditStore, divergence: Divergence) -> str:
    """The first changed leaf, or the range it lies in, with the entries the store holds there."""
    held = _entries_among(store, divergence.start, divergence.end)
    if divergence.exact:
        entry = f", which the store now gives to {held}" if held else ""
        said = f"the first changed leaf is leaf {divergence.start}{entry}"
    else:
        said = (
            f"the first changed leaf lies among leaves {divergence.start} to "
            f"{divergence.end - 1} (the kept heads commit to nothing finer there)"
        )
        if held:
            said += f", where the store now holds {held}"
    if divergence.matched is not None:
        line, size = divergence.matched
        said = f"the store still matches head {line} (size {size}); {said}"
    if not held:
        return said
    trails = "that case's trail" if divergence.exact else "those cases' trails"
    return (
        f"{said}: compare {trails} from there on with what the institutions received (their "
        "connectors' feed chains), and restore the audit store from a backup taken before "
        "the change"
    )


def _entries_among(store: AuditStore, start: int, end: int) -> str:
    """The first entries the store holds at leaves ``start`` to ``end - 1``, and how many more.

    Named by case and seq only, as :meth:`streams.audit.tree_log.Leaf.named` gives them.
    """
    named: list[str] = []
    count = 0
    for leaf in TreeLog(store.engine).leaves(start):
        if not is_number(leaf.log_index) or leaf.log_index >= end:
            break
        count += 1
        if len(named) < NAMED_ENTRIES:
            named.append(leaf.named())
    more = f" and {count - len(named)} more" if count > len(named) else ""
    return ", ".join(named) + more
