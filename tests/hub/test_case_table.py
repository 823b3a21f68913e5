"""A case keeps its chain's head; each accepted event's place is in the accepted-event index.

In process, without a broker (:mod:`tests.hub.tabletools`): a case's value keeps its size
however many events it has, an event many entries back is still told from a duplicate and
given its entry again, within one batch too, and a case value written before the index is read
and moved into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faust
import pytest

from streams.domain.chain import GENESIS_HASH
from streams.hub.case_store import CaseStoreKind, encode, read_value, write_value
from streams.hub.case_table import index_key
from streams.hub.pipeline import Outgoing, Pipeline
from streams.topics import DLQ
from tests.disclosure_case import clarified, reported
from tests.hub.steptools import step_pipeline
from tests.hub.tabletools import Inbound, TableWorker, decoded, entry_of, reasons

#: Clarifications asked and answered on the long case: two events each.
CLARIFICATIONS = 100


@dataclass
class Case:
    """A case a worker took event by event, a batch each, and what each event produced."""

    worker: TableWorker
    inbound: Inbound
    case_id: str
    taken: list[tuple[faust.types.Message, list[Outgoing]]]

    def take(self, event_type: str, record: dict[str, Any]) -> list[Outgoing]:
        message = self.inbound.message(event_type, record)
        produced = self.worker.batch(message)
        assert reasons(self.worker.step, produced) == [], event_type
        self.taken.append((message, produced))
        return produced

    def size(self) -> int:
        return len(encode(self.worker.case_value(self.case_id)))


def opened(home: Path, kind: CaseStoreKind = CaseStoreKind.ROCKSDB) -> Case:
    step = step_pipeline(home)
    opening = reported()
    case = Case(TableWorker.on(step, home / "tables", kind), Inbound(step), "", [])
    case.case_id = opening[0][1]["envelope"]["case_id"]
    for event_type, record in opening:
        case.take(event_type, record)
    return case


@pytest.fixture(scope="module")
def long_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Case, list[int]]:
    """A case of 4 + 200 events, and its value's size after each clarification answered."""
    case = opened(tmp_path_factory.mktemp("long"))
    sizes = []
    for _ in range(CLARIFICATIONS):
        for event_type, record in clarified(case.case_id):
            case.take(event_type, record)
        sizes.append(case.size())
    return case, sizes


def test_a_case_value_keeps_its_size_however_many_events_the_case_has(
    long_case: tuple[Case, list[int]],
) -> None:
    case, sizes = long_case

    # From the 24th event to the 204th, only digits of sequence numbers and offsets grow: the
    # value once grew by a hash, a sequence number and a position with every event.
    assert sizes[-1] - sizes[9] <= 16, (sizes[9], sizes[-1])
    value = case.worker.case_value(case.case_id)
    assert value is not None
    assert value["chain"] == {"seq": 204, "hash": entry_of(case.worker.step, case.taken[-1][1])[2]}
    assert "accepted" not in value["lifecycle"]


def test_an_event_many_entries_back_is_redelivered_with_its_entry_and_a_copy_refused(
    long_case: tuple[Case, list[int]],
) -> None:
    case, _ = long_case
    step = case.worker.step
    message, first = case.taken[2]

    again = case.worker.batch(message)
    copy = case.worker.batch(case.inbound.again(message))

    assert entry_of(step, first)[0] == 3
    assert decoded(step, again) == decoded(step, first)
    assert reasons(step, copy) == ["duplicate_event"]
    value = case.worker.case_value(case.case_id)
    assert value is not None
    assert value["chain"]["seq"] == 204


def test_the_index_holds_positions_and_hashes_of_every_event_and_no_personal_data(
    long_case: tuple[Case, list[int]],
) -> None:
    case, _ = long_case
    index = case.worker.step.index
    message, produced = case.taken[0]
    event_id = case.worker.step.codec.decode(produced[0][2]).record["envelope"]["event_id"]

    value = read_value(index, index_key(case.case_id, event_id))

    assert value == {
        "position": f"{message.topic}:{message.partition}:{message.offset}",
        "seq": 1,
        "prev_hash": GENESIS_HASH,
        "hash": entry_of(case.worker.step, produced)[2],
    }


@pytest.mark.parametrize("kind", list(CaseStoreKind))
def test_a_copy_in_the_same_batch_is_refused_and_a_redelivered_batch_gives_the_same(
    tmp_path: Path, kind: CaseStoreKind
) -> None:
    case = opened(tmp_path, kind)
    step = case.worker.step
    [(event_type, asked), _] = clarified(case.case_id)
    message = case.inbound.message(event_type, asked)
    batch = [message, case.inbound.again(message)]

    first = case.worker.batch(*batch)
    again = case.worker.batch(*batch)

    assert reasons(step, first) == reasons(step, again) == ["duplicate_event"]
    assert entry_of(step, first)[0] == entry_of(step, again)[0] == 5
    assert accepted(step, first) == accepted(step, again)


def accepted(step: Pipeline, produced: list[Outgoing]) -> list[tuple[str, dict[str, Any]]]:
    """What an accepted event of ``produced`` gave: no dead letter, no rejection receipt."""
    return [
        (topic, record)
        for topic, record in decoded(step, produced)
        if topic != DLQ and record.get("status") != "REJECTED"
    ]


def old_value(case: Case) -> dict[str, Any]:
    """The case's value as the hub wrote it before the index: every entry and position in it."""
    step, hashes, seq_of, accepted = case.worker.step, [], {}, {}
    for message, produced in case.taken:
        seq, _, hashed = entry_of(step, produced)
        event_id = step.codec.decode(produced[0][2]).record["envelope"]["event_id"]
        hashes.append(hashed)
        seq_of[event_id] = seq
        accepted[event_id] = f"{message.topic}:{message.partition}:{message.offset}"
    value = case.worker.case_value(case.case_id)
    assert value is not None
    lifecycle = value["lifecycle"] | {"accepted": accepted}
    return {"lifecycle": lifecycle, "chain": {"hashes": hashes, "seq_of": seq_of}}


def test_a_case_value_written_before_the_index_is_read_and_its_events_moved_into_it(
    tmp_path: Path,
) -> None:
    case = opened(tmp_path / "before")
    for event_type, record in clarified(case.case_id):
        case.take(event_type, record)
    upgraded = TableWorker.on(case.worker.step, tmp_path / "after")
    write_value(upgraded.step.table, case.case_id, old_value(case), 0)
    step = upgraded.step
    message, first = case.taken[1]

    again = upgraded.batch(message)
    copy = upgraded.batch(case.inbound.again(message))
    [(event_type, asked), _] = clarified(case.case_id)
    later = upgraded.batch(case.inbound.message(event_type, asked))

    assert decoded(step, again) == decoded(step, first)
    assert reasons(step, copy) == ["duplicate_event"]
    assert entry_of(step, later)[:2] == (7, entry_of(step, case.taken[-1][1])[2])
    value = upgraded.case_value(case.case_id)
    assert value is not None
    assert "hashes" not in value["chain"]
    assert "accepted" not in value["lifecycle"]
    for key in (
        index_key(case.case_id, event_id) for event_id in old_value(case)["chain"]["seq_of"]
    ):
        assert read_value(step.index, key) == read_value(case.worker.step.index, key)
