"""The sink's writes and resumption on a store damaged outside the hub: refused with a reason.

A leaf index or a consumed offset edited into text (SQLite keeps any value in any column) made
the sink's next batch, or its restart, fail with an error of the Python runtime, which stops
its agent; as a StoreError it is logged with what is wrong and retried, the batch kept.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.audit.store import AuditStore, StoreError
from tests.storetools import chained_rows, open_store

CASE = "8b2f0c2a-0000-4000-8000-00000000000c"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AuditStore]:
    opened = open_store("sqlite", tmp_path, None)
    opened.insert(chained_rows(CASE, 3), {("kawal.case.audit", 0): 3})
    yield opened
    opened.close()


def damage(store: AuditStore, statement: str) -> None:
    with sqlite3.connect(str(store.engine.url.database)) as conn:
        conn.execute(statement)


def test_a_leaf_index_edited_into_text_refuses_the_next_batch_with_its_reason(
    store: AuditStore,
) -> None:
    damage(store, "UPDATE tree_leaves SET log_index = 'x' WHERE log_index = 2")

    with pytest.raises(StoreError, match="edited outside the hub"):
        store.insert(chained_rows(CASE, 1, start=4))
    assert store.count() == 3  # nothing of the batch was stored


@pytest.mark.parametrize("value", ["'x'", "2.5", "-1"])
def test_a_consumed_offset_edited_into_what_no_offset_is_refuses_resuming(
    store: AuditStore, value: str
) -> None:
    damage(store, f"UPDATE consumed_offsets SET next_offset = {value}")

    with pytest.raises(StoreError, match="edited outside the hub"):
        store.consumed_offsets()
