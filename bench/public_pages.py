"""What a request for the public front page costs the worker when the store is national.

Writes :data:`CASES` generated cases (the dashboard's mix: several steps each) into a SQLite
audit store, then times what the front page reads from the store: every entry of the types the
statistics need, when the store has grown (``full_read_ms``), and the listing with the last
projection, when it has not or was read less than ten reads ago (``cached_read_ms``,
:mod:`streams.audit.read_cache`). Before the cache, every request paid the full read.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from schemas.codec import AvroCodec
from streams.audit.figures.cache import ProjectionCache
from streams.audit.figures.facts import read_facts
from streams.audit.store import AuditStore
from tests.dashboard_mix import generate
from tests.entrytools import signed_rows

CASES = int(os.environ.get("KAWAL_BENCH_PUBLIC_CASES", "20000"))
#: Cases written per transaction.
CHUNK = 500
#: Timed reads of each kind.
READS = 5
#: Cases the front page lists.
LISTED = 200


@dataclass(frozen=True)
class PublicPages:
    """The store's size and the front page's read costs."""

    cases: int
    entries: int
    full_read_ms: float
    cached_read_ms: float

    def lines(self) -> list[str]:
        """``name: value`` lines of the figures."""
        return [
            f"public_pages.cases: {self.cases}",
            f"public_pages.entries: {self.entries}",
            f"public_pages.full_read_ms: {self.full_read_ms:.0f}",
            f"public_pages.cached_read_ms: {self.cached_read_ms:.1f}",
        ]


def measure(codec: AvroCodec) -> PublicPages:
    """Fill a store with :data:`CASES` cases and time the front page's reads of it."""
    with tempfile.TemporaryDirectory(prefix="kawal-bench-public-") as tmp:
        store = AuditStore(f"sqlite:///{Path(tmp) / 'audit.db'}")
        store.create_schema()
        try:
            _fill(store, codec)
            cache = ProjectionCache(store, codec)
            full = _median_ms(lambda: _read_all(store, codec, cache))
            cached = _median_ms(lambda: _read_listing(store, cache))
            return PublicPages(CASES, store.count(), full, cached)
        finally:
            store.close()


def _fill(store: AuditStore, codec: AvroCodec) -> None:
    for first in range(0, CASES, CHUNK):
        cases = generate(seed=first, count=min(CHUNK, CASES - first))
        store.insert([row for events in cases for row in signed_rows(codec, events)])


def _read_all(store: AuditStore, codec: AvroCodec, cache: ProjectionCache) -> None:
    """What a request reads once the store has grown: every projected entry again."""
    read_facts(store, codec)
    _read_listing(store, cache)


def _read_listing(store: AuditStore, cache: ProjectionCache) -> None:
    cache.projection()
    store.recent_cases(LISTED)
    store.case_ids()


def _median_ms(read: Callable[[], None]) -> float:
    times = []
    for _ in range(READS):
        started = time.perf_counter()
        read()
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)[len(times) // 2]
