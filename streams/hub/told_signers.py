"""Which signers were told of a misplaced event already: one receipt per (signer, event id).

A party that received a signed event on its feed can publish it on its own topic again and
again; each copy is refused, and without a memory each would send the signer one more receipt
about an event it did not place (:mod:`streams.hub.misplaced`). The worker remembers the
pairs it told, and tells each once. The memory is bounded, oldest forgotten first, and kept
per worker process: a restart, or the same event replayed onto partitions of another worker,
may tell a signer once more, never once per copy. Every copy still reaches ``kawal.dlq`` and
its placer's feed.
"""

from __future__ import annotations

from collections import OrderedDict

#: Pairs remembered: a replay can only cycle through events its feed gave it, and 65,536
#: pairs of ids (about 150 bytes each) cost about 10 MB.
CAPACITY = 65_536


class ToldSigners:
    """The (signer, event id) pairs whose misplaced receipt was sent, the newest kept."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        """Remember at most ``capacity`` pairs."""
        self._capacity = capacity
        self._told: OrderedDict[tuple[str, str], None] = OrderedDict()

    def first(self, signer: str, event_id: str) -> bool:
        """Whether ``signer`` is to be told of ``event_id`` now: True once, then False.

        Examples:
            >>> told = ToldSigners(capacity=1)
            >>> told.first("bkn", "e1"), told.first("bkn", "e1"), told.first("bkn", "e2")
            (True, False, True)
            >>> told.first("bkn", "e1")  # forgotten: the memory holds one pair
            True
        """
        pair = (signer, event_id)
        if pair in self._told:
            self._told.move_to_end(pair)
            return False
        self._told[pair] = None
        if len(self._told) > self._capacity:
            self._told.popitem(last=False)
        return True
