"""The case tables on disk (RocksDB, the default) or in memory (``KAWAL_CASE_STORE=memory``)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from streams.domain.chain import verify_chain
from streams.hub.case_store import iter_cases
from streams.local.embedded import EmbeddedBroker
from streams.settings import Settings
from streams.topics import ACCEPTED_TABLE, CASE_TABLE, inbound_topic
from tests.hubtools import RunningHub, recommendation, report, start_hub, until_referral

pytestmark = pytest.mark.slow


def _one_case_through(hub: RunningHub) -> dict[str, Any]:
    """Put a case through to its referral, an event in the trail before the next; its first."""
    first = report("bawaslu.33")
    events = [("ReportReceived", first), *until_referral(first["envelope"]["case_id"])]
    for event_type, record in events:
        hub.step(event_type, record)
    return first


def _partition_databases(home: Path, table: str = CASE_TABLE) -> list[Path]:
    return sorted((home / "worker").glob(f"**/{table}-*.db"))


def test_a_case_goes_through_with_its_table_in_memory(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    hub = start_hub(own_broker.url, tmp_path / "home", worker_env={"KAWAL_CASE_STORE": "memory"})
    try:
        # Later events of the case are accepted: each read the state the one before wrote.
        _one_case_through(hub)
    finally:
        hub.stop()

    for table in (CASE_TABLE, ACCEPTED_TABLE):
        assert _partition_databases(tmp_path / "home", table) == []


def test_a_worker_on_an_empty_data_directory_rebuilds_the_tables_from_their_changelogs(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """On disk by default: a case goes through, and a worker whose files are gone recovers."""
    home = tmp_path / "home"
    hub = start_hub(own_broker.url, home)
    try:
        # Later events of the case are accepted: each read the state the one before wrote.
        first = _one_case_through(hub)
    finally:
        hub.stop()
    for table in (CASE_TABLE, ACCEPTED_TABLE):
        assert _partition_databases(home, table), f"no {table} files on disk"
    shutil.rmtree(home / "worker")
    case_id, event_id = first["envelope"]["case_id"], first["envelope"]["event_id"]

    hub = start_hub(own_broker.url, home)
    try:
        # The first event is four saves back: only the recovered index knows it.
        hub.publish("ReportReceived", first)
        rows = hub.step("RecommendationIssued", recommendation(case_id))
        letters = hub.dead_letters(
            inbound_topic("bawaslu.33"),
            lambda letter: hub.event_id_in(letter) == event_id,
        )
    finally:
        hub.stop()

    assert [letter["reason_code"] for letter in letters] == ["duplicate_event"]
    # The recovered case table gave the next event the next entry of the chain.
    assert [row.seq for row in rows] == [1, 2, 3, 4, 5]
    assert verify_chain(rows) is None


def test_an_unknown_case_store_is_refused() -> None:
    with pytest.raises(ValidationError, match="case_store"):
        Settings(case_store="redis")  # type: ignore[arg-type]


def test_a_look_at_every_case_of_a_memory_table_survives_cases_added_meanwhile() -> None:
    table: dict[str, dict[str, object]] = {"a": {"n": 1}, "b": {"n": 2}}

    seen = []
    for case_id, _ in iter_cases(table):
        table[f"new-{case_id}"] = {}  # the pipeline adds a case while the timer awaits
        seen.append(case_id)

    assert seen == ["a", "b"]
