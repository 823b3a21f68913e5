"""The dashboard's projection is read again exactly when the audit store has grown."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.figures.cache import ProjectionCache
from streams.audit.store import AuditStore, StoreError
from tests.dashboard_mix import generate, write


def test_the_same_store_gives_the_same_projection_and_a_grown_one_a_new(tmp_path: Path) -> None:
    store = AuditStore(f"sqlite:///{tmp_path / 'audit.db'}")
    store.create_schema()
    codec = AvroCodec(default_catalog())
    first, second = generate(seed=3, count=8), generate(seed=4, count=5)
    write(store, codec, first)
    cache = ProjectionCache(store, codec)

    before = cache.projection()
    again = cache.projection()
    write(store, codec, second)
    grown = cache.projection()

    assert again is before
    assert len(before.cases) == 8
    assert grown is not before
    assert len(grown.cases) == 13


def test_a_store_that_cannot_be_read_is_a_store_error(tmp_path: Path) -> None:
    store = AuditStore(f"sqlite:///{tmp_path / 'no-tables.db'}")

    with pytest.raises(StoreError, match="cannot read the audit store"):
        ProjectionCache(store, AvroCodec(default_catalog())).projection()
