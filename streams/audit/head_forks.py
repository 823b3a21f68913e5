"""Kept heads that cannot both hold: the hub's key signed two histories (a fork).

Two heads of one size with different roots, a head whose own consistency proof from an
earlier kept head fails, or an earlier head the store does not start with while a later one
matches it. Either the hub's key signed a head it should not have, or the store the hub
signed from was changed between two heads: a matter for whoever answers for the hub's key,
not a restore. Each pair is reported once, with which of the two the store matches; a head
of a fork is not reported again as not in the store.
"""

from __future__ import annotations

from streams.domain.tree_heads import SignedTreeHead, extension_problem

#: What a fork means and what to do, the same for every pair.
FORK_ADVICE = (
    "the hub's key signed two histories that cannot both be true: the hub's key or its "
    "store was misused. Keep both heads (their lines, unchanged) as evidence, and escalate "
    "to whoever answers for the hub's key and to the institutions that kept them; a backup "
    "does not settle which history is true"
)

Kept = list[tuple[int, SignedTreeHead]]


def fork_pairs(kept: Kept, matching: dict[int, bool]) -> dict[tuple[int, int], str]:
    """Pairs of kept heads (their lines) that do not extend each other, and why, once each."""
    pairs: dict[tuple[int, int], str] = {}

    def fork(first: int, second: int, why: str) -> None:
        pairs.setdefault((min(first, second), max(first, second)), why)

    by_size: dict[int, Kept] = {}
    for number, head in kept:
        by_size.setdefault(head.tree_size, []).append((number, head))
    for number, head in kept:
        # A head's own proof from the head published before it, when that one was kept too.
        earlier_heads = by_size.get(head.previous_size, []) if head.previous_size else []
        for earlier_number, earlier in earlier_heads:
            if earlier.tree_size < head.tree_size:
                refusal = extension_problem(earlier, head)
                if refusal is not None:
                    fork(earlier_number, number, refusal.detail)
        for other_number, other in by_size[head.tree_size]:
            if other.root_hash != head.root_hash:
                fork(other_number, number, f"both are of size {head.tree_size}, with two roots")
    # The store's log is a prefix of every head it matches: a smaller head it does not start
    # with is no prefix of that head either.
    smallest_match: tuple[int, SignedTreeHead] | None = None
    for number, head in sorted(kept, key=lambda item: item[1].tree_size, reverse=True):
        if matching[number]:
            smallest_match = (number, head)
        elif smallest_match is not None and smallest_match[1].tree_size > head.tree_size:
            fork(
                number,
                smallest_match[0],
                f"the store matches head {smallest_match[0]} but does not start with head {number}",
            )
    return pairs


def store_side(pair: tuple[int, int], matching: dict[int, bool]) -> str:
    """Which head of ``pair`` the store matches, said in a clause."""
    first, second = pair
    if matching[first] and matching[second]:
        return f"the store matches both heads {first} and {second}"
    if matching[first] or matching[second]:
        matched, other = (first, second) if matching[first] else (second, first)
        return f"the store matches head {matched}, not head {other}"
    return (
        f"the store matches neither head {first} nor head {second}: it was also changed "
        "after them, or is of a third history"
    )
