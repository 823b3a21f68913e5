"""Data keys already unwrapped, so a busy worker unwraps each case's key once, not per event.

A bounded LRU map ``case_id -> (wrapped key, data key)``. An entry serves only the wrapped key
it was unwrapped from: the vault reads the rows on every call, so a key rewrapped or erased by
another process is never answered from here (only the unwrap is saved, which with a KMS is a
network round trip). Erasure evicts the case; Python cannot wipe ``bytes``, so an evicted key
stays in the process's memory until the garbage collector reuses it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from streams.vault.kek import WrappedKey

#: Keys held by default: 10,000 cases at 32 bytes each, well under a megabyte.
DEFAULT_CAPACITY = 10_000


class DekCache:
    """Least-recently-used data keys, at most ``capacity`` of them; safe across threads."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 0:
            raise ValueError("a cache holds zero keys or more")
        self.capacity = capacity
        self._entries: OrderedDict[str, tuple[WrappedKey, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, case_id: str, wrapped: WrappedKey) -> bytes | None:
        """The data key unwrapped from exactly ``wrapped``, or None."""
        with self._lock:
            entry = self._entries.get(case_id)
            if entry is None or entry[0] != wrapped:
                return None
            self._entries.move_to_end(case_id)
            return entry[1]

    def put(self, case_id: str, wrapped: WrappedKey, dek: bytes) -> None:
        """Keep ``dek``, unwrapped from ``wrapped``; drop the least recently used if full."""
        with self._lock:
            self._entries[case_id] = (wrapped, dek)
            self._entries.move_to_end(case_id)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def evict(self, case_id: str) -> None:
        """Forget the key of ``case_id``."""
        with self._lock:
            self._entries.pop(case_id, None)
