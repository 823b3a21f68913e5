"""Writers on older schema versions: their fingerprints, resolved to the released schema.

Institutions upgrade on their own timetables, so a producer may still write with a version
the catalogue has moved past. Its single-object fingerprint is then unknown to the current
catalogue; the release store still has that version, and Avro schema resolution reads the
body with it as writer and the current schema as reader (the compatibility gate guarantees
that works).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from schemas.catalog import SchemaCatalog, schema_fingerprint
from schemas.release_store import ReleaseStore


class OlderWriters:
    """Index of every released version by fingerprint, for messages still in the catalogue."""

    def __init__(self, catalog: SchemaCatalog, store: ReleaseStore | None = None) -> None:
        self._catalog = catalog
        self._store = store or ReleaseStore()

    def lookup(self, fingerprint: bytes) -> tuple[str, Any] | None:
        """The message's full name and the writer schema for ``fingerprint``, if released."""
        return self._index.get(fingerprint)

    @cached_property
    def _index(self) -> dict[bytes, tuple[str, Any]]:
        # Built on first use: decoding current-version messages never reads the release store.
        current = set(self._catalog.names())
        index: dict[bytes, tuple[str, Any]] = {}
        for full_name in self._store.names():
            if full_name not in current:
                continue
            for release in self._store.releases(full_name):
                index[schema_fingerprint(release.schema)] = (full_name, release.schema)
        return index
