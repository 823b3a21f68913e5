"""The live tracking streams one source holds open, and when the oldest of them ends.

A reporter needs one stream (a few tabs are fine); each holds a connection for up to
``lifetime`` seconds before the browser reconnects by itself. A stream more than a source may
hold is refused, saying when its oldest one ends (``Retry-After``), the soonest a slot is
sure to be free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class StreamSlots:
    """The start times of the streams open per source (touched only on the portal's loop).

    Args:
        per_source: streams one source may hold open at once.
        lifetime: seconds a stream lasts at most.
    """

    per_source: int
    lifetime: float
    _opened: dict[str, list[float]] = field(default_factory=dict)

    def open(self, source: str, now: float) -> bool:
        """Note a stream of ``source`` opened at ``now``; False (none noted) when it holds all."""
        opened = self._opened.setdefault(source, [])
        if len(opened) >= self.per_source:
            return False
        opened.append(now)
        return True

    def close(self, source: str, opened_at: float) -> None:
        """Forget the stream of ``source`` opened at ``opened_at``."""
        self._opened[source].remove(opened_at)
        if not self._opened[source]:
            del self._opened[source]

    def free_in(self, source: str, now: float) -> int:
        """Seconds (at least 1) until the oldest stream of ``source`` ends by itself."""
        opened = self._opened.get(source)
        if not opened:
            return 1
        return max(1, math.ceil(min(opened) + self.lifetime - now))
