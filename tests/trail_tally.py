"""What a run left in the trail: events lost, duplicated and chains failing (all must be 0)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from streams.domain.chain import verify_chain


@dataclass(frozen=True)
class TrailTally:
    """Acknowledged events against the trails the audit store holds."""

    accepted: int
    lost: int
    duplicated: int
    chains_failing: int

    @classmethod
    def of(cls, accepted: set[str], trails: Sequence[Sequence[Any]]) -> TrailTally:
        """Tally ``trails`` (each case's rows, in order) against the ``accepted`` event ids."""
        per_event = Counter(row.event_id for trail in trails for row in trail)
        return cls(
            accepted=len(accepted),
            lost=len(accepted - set(per_event)),
            duplicated=sum(count - 1 for count in per_event.values()),
            chains_failing=sum(verify_chain(list(trail)) is not None for trail in trails),
        )

    @property
    def clean(self) -> bool:
        """Nothing lost, nothing twice, every chain verified."""
        return (self.lost, self.duplicated, self.chains_failing) == (0, 0, 0)

    def lines(self, prefix: str) -> list[str]:
        """``name: value`` lines of the figures."""
        return [
            f"{prefix}events_accepted: {self.accepted}",
            f"{prefix}events_lost: {self.lost}",
            f"{prefix}events_duplicated: {self.duplicated}",
            f"{prefix}chains_failing: {self.chains_failing}",
        ]
