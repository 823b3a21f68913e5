"""Reading every case a page at a time: the pipeline runs between pages, nothing is missed."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from faust.assignor.client_assignment import ClientAssignment

from streams.hub.case_scan import Pacing, each_case
from streams.hub.case_store import CaseStoreKind, write_value
from tests.hub.tabletools import tables


def assign(table: Any, actives: Iterable[int], standbys: Iterable[int] = ()) -> None:
    """Give the worker ``actives`` and ``standbys`` of the table, as a rebalance does."""
    topic = table.changelog_topic_name
    table.app.assignor._assignment = ClientAssignment(
        actives={topic: list(actives)}, standbys={topic: list(standbys)}
    )


def rocksdb_table(home: Path, cases_per_partition: dict[int, int]) -> Any:
    """A RocksDB case table holding ``n`` cases in each partition of ``cases_per_partition``."""
    table, _ = tables(home, CaseStoreKind.ROCKSDB)
    for partition, count in cases_per_partition.items():
        for n in range(count):
            write_value(table, f"case-{partition}-{n:04}", {"n": n}, partition)
    return table


async def scan_beside_a_task(table: Any, page_size: int) -> tuple[list[str], list[int]]:
    """The cases a scan sees, and how many cases it had seen at each turn of another task."""
    seen: list[str] = []
    turns: list[int] = []
    done = False

    async def pipeline() -> None:
        while not done:
            turns.append(len(seen))
            await asyncio.sleep(0)

    task = asyncio.create_task(pipeline())
    async for case_id, _ in each_case(table, page_size):
        seen.append(case_id)
    done = True
    await task
    return seen, turns


def most_read_in_one_turn(turns: list[int]) -> int:
    """The most cases the scan read while the other task waited for its turn."""
    return max(later - earlier for earlier, later in itertools.pairwise(turns))


def test_a_rocksdb_table_is_read_a_page_at_a_time_with_the_loop_given_back(
    tmp_path: Path,
) -> None:
    table = rocksdb_table(tmp_path, {0: 250, 1: 130, 2: 40})
    assign(table, actives=[0, 1], standbys=[2])

    seen, turns = asyncio.run(scan_beside_a_task(table, page_size=100))

    # Every case of the active partitions, once each; none of the standby copy.
    assert sorted(seen) == sorted(
        [f"case-0-{n:04}" for n in range(250)] + [f"case-1-{n:04}" for n in range(130)]
    )
    # The other task ran between pages: no turn of it saw more than one page more read.
    assert most_read_in_one_turn(turns) <= 100
    assert len(turns) >= 380 // 100


def test_a_partition_given_away_during_a_scan_is_left_and_a_new_one_breaks_nothing(
    tmp_path: Path,
) -> None:
    table = rocksdb_table(tmp_path, {0: 300, 1: 300})
    assign(table, actives=[0, 1])

    async def scan() -> list[str]:
        seen = []
        async for case_id, _ in each_case(table, page_size=100):
            seen.append(case_id)
            if len(seen) == 50:  # a rebalance while the scan awaits
                assign(table, actives=[0, 3])
                table.data._dbs.pop(1, None)
                write_value(table, "case-3-0000", {"n": 0}, 3)
        return seen

    seen = asyncio.run(scan())

    assert sorted(seen) == [f"case-0-{n:04}" for n in range(300)]


def test_a_case_written_during_a_scan_is_seen_as_it_was_or_as_it_is(tmp_path: Path) -> None:
    table = rocksdb_table(tmp_path, {0: 300})
    assign(table, actives=[0])

    async def scan() -> dict[str, Any]:
        seen = {}
        async for case_id, value in each_case(table, page_size=100):
            seen[case_id] = value
            if case_id == "case-0-0000":
                write_value(table, "case-0-0299", {"n": "changed"}, 0)
                write_value(table, "case-0-0150x", {"n": "new"}, 0)
        return seen

    seen = asyncio.run(scan())

    assert len(seen) == 301
    assert seen["case-0-0299"] == {"n": "changed"}
    assert seen["case-0-0150x"] == {"n": "new"}


def test_a_memory_table_is_read_a_page_at_a_time_and_cases_added_meanwhile_break_nothing() -> None:
    table: dict[str, dict[str, int]] = {f"case-{n}": {"n": n} for n in range(450)}

    async def scan() -> tuple[list[str], list[int]]:
        seen, turns = await scan_beside_a_task(table, page_size=100)
        table["late"] = {"n": -1}
        return seen, turns

    seen, turns = asyncio.run(scan())

    assert seen == [f"case-{n}" for n in range(450)]
    assert most_read_in_one_turn(turns) <= 100


class Clock:
    """Monotonic seconds a test sets."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_repeated_look_waits_ten_times_its_duration() -> None:
    clock = Clock()
    pacing = Pacing(clock=clock)
    assert pacing.due()

    with pacing.timing():
        clock.now += 2.0

    assert pacing.last_seconds == 2.0
    clock.now += 19.9
    assert not pacing.due()
    clock.now += 0.1
    assert pacing.due()
