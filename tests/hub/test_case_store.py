"""The case table on disk (RocksDB, the default) or in memory (``KAWAL_CASE_STORE=memory``)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from streams.hub.case_store import iter_cases
from streams.local.embedded import EmbeddedBroker
from streams.settings import Settings
from tests.hubtools import RunningHub, report, start_hub, until_referral

pytestmark = pytest.mark.slow


def _one_case_through(hub: RunningHub) -> None:
    first = report("bawaslu.33")
    events = [("ReportReceived", first), *until_referral(first["envelope"]["case_id"])]
    for event_type, record in events:
        hub.publish(event_type, record)
    deadline = time.monotonic() + 60
    while hub.store.count() < len(events):
        assert time.monotonic() < deadline, hub.worker.log_tail()
        time.sleep(0.2)


def _partition_databases(home: Path) -> list[Path]:
    return sorted((home / "worker").glob("**/case-state-*.db"))


@pytest.mark.parametrize(("store", "on_disk"), [(None, True), ("memory", False)])
def test_a_case_goes_through_with_its_table_on_disk_or_in_memory(
    own_broker: EmbeddedBroker, tmp_path: Path, store: str | None, on_disk: bool
) -> None:
    env = {"KAWAL_CASE_STORE": store} if store else {}
    hub = start_hub(own_broker.url, tmp_path / "home", worker_env=env)
    try:
        # Later events of the case are accepted: each read the state the one before wrote.
        _one_case_through(hub)
    finally:
        hub.stop()

    assert bool(_partition_databases(tmp_path / "home")) is on_disk


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
