"""The dashboard's projection is read again once the store has grown, at a bounded rate."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.figures.cache import ProjectionCache
from streams.audit.figures.facts import Projection, read_facts
from streams.audit.store import AuditStore, StoreError
from tests.dashboard_mix import generate, write

#: The projection's read, as the cache calls it.
READ_FACTS = "streams.audit.figures.cache.read_facts"
#: Seconds each read of the store takes on the test's clock.
READ_SECONDS = 2.0


class Clock:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> AuditStore:
    store = AuditStore(f"sqlite:///{tmp_path / 'audit.db'}")
    store.create_schema()
    return store


@pytest.fixture
def codec() -> AvroCodec:
    return AvroCodec(default_catalog())


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A clock on which every read of the store takes :data:`READ_SECONDS`."""
    clock, read = Clock(), read_facts

    def slow_read(store: AuditStore, codec: AvroCodec) -> Projection:
        clock.now += READ_SECONDS
        return read(store, codec)

    monkeypatch.setattr(READ_FACTS, slow_read)
    return clock


def test_the_same_store_gives_the_same_projection(
    store: AuditStore, codec: AvroCodec, clock: Clock
) -> None:
    write(store, codec, generate(seed=3, count=8))
    cache = ProjectionCache(store, codec, clock=clock)

    before = cache.projection()
    clock.now += 3600
    again = cache.projection()

    assert again is before
    assert len(before.cases) == 8


def test_a_grown_store_is_read_again_after_ten_times_the_last_read(
    store: AuditStore, codec: AvroCodec, clock: Clock
) -> None:
    write(store, codec, generate(seed=3, count=8))
    cache = ProjectionCache(store, codec, clock=clock)
    before = cache.projection()
    write(store, codec, generate(seed=4, count=5))

    clock.now += 10 * READ_SECONDS - 0.5
    soon = cache.projection()
    clock.now += 0.5
    grown = cache.projection()

    assert soon is before
    assert grown is not before
    assert len(grown.cases) == 13
    assert grown.read_at > before.read_at


def test_while_one_reader_reads_the_others_get_the_last_projection(
    store: AuditStore, codec: AvroCodec, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(store, codec, generate(seed=3, count=4))
    cache = ProjectionCache(store, codec, spacing=0)
    before = cache.projection()
    write(store, codec, generate(seed=4, count=2))
    reading, release = threading.Event(), threading.Event()
    read = read_facts

    def held_read(store: AuditStore, codec: AvroCodec) -> Projection:
        reading.set()
        release.wait(30)
        return read(store, codec)

    monkeypatch.setattr(READ_FACTS, held_read)
    results: list[Projection] = []
    reader = threading.Thread(target=lambda: results.append(cache.projection()))
    reader.start()
    assert reading.wait(30)

    meanwhile = cache.projection()
    release.set()
    reader.join(30)

    assert meanwhile is before
    assert len(results[0].cases) == 6


def test_the_first_readers_wait_for_one_read(
    store: AuditStore, codec: AvroCodec, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(store, codec, generate(seed=3, count=4))
    cache = ProjectionCache(store, codec)
    reads: list[int] = []
    read = read_facts

    def counted_read(store: AuditStore, codec: AvroCodec) -> Projection:
        reads.append(1)
        return read(store, codec)

    monkeypatch.setattr(READ_FACTS, counted_read)
    results: list[Projection] = []
    readers = [
        threading.Thread(target=lambda: results.append(cache.projection())) for _ in range(4)
    ]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(30)

    assert len(reads) == 1
    assert len(results) == 4
    assert all(result is results[0] for result in results)


def test_a_store_that_cannot_be_read_is_a_store_error(tmp_path: Path) -> None:
    store = AuditStore(f"sqlite:///{tmp_path / 'no-tables.db'}")

    with pytest.raises(StoreError, match="cannot read the audit store"):
        ProjectionCache(store, AvroCodec(default_catalog())).projection()
