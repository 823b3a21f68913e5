"""Decoding the entries a projection reads, counting the ones that no longer decode.

The projections (statistics, dashboard, public register) fold ``(case_id, event bytes)`` from
:meth:`streams.audit.store.AuditStore.events_of_types`. An entry whose bytes do not decode is
counted and left out of the figures, never a crash; ``kawal audit verify`` is where a trail's
integrity is checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from schemas.codec import AvroCodec, CodecError


class EntryDecoder:
    """Decodes entries with ``codec``; :attr:`skipped` counts those that did not decode."""

    def __init__(self, codec: AvroCodec) -> None:
        """A decoder that has skipped nothing yet."""
        self.codec = codec
        self.skipped = 0

    def records(self, entries: Iterable[tuple[str, bytes]]) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(case_id, decoded record)`` of each entry that decodes, in the entries' order."""
        for case_id, event in entries:
            try:
                record = self.codec.decode(event).record
            except CodecError:
                self.skipped += 1
                continue
            yield case_id, record
