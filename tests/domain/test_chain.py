"""The hash chain and the ledger's chain state, without a broker."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from streams.domain.chain import GENESIS_HASH, EntryFields, entry_hash, verify_chain
from streams.domain.ledger import CaseChain

CASE = "6b0c6f3e-8a0e-5d5b-9a56-3f3f1c1d2e4a"


def fields(seq: int, prev: str, event: bytes) -> EntryFields:
    return EntryFields(
        case_id=CASE,
        seq=seq,
        prev_hash=prev,
        recorded_at=datetime(2026, 12, 4, 8, 0, seq, tzinfo=UTC),
        source_topic="kawal.inbound.bawaslu",
        source_partition=0,
        source_offset=seq,
        key_id="bawaslu/0011223344556677",
        signature=b"s" * 64,
        event=event,
    )


def chain(*events: bytes) -> list[tuple[EntryFields, str]]:
    links, prev = [], GENESIS_HASH
    for seq, event in enumerate(events, start=1):
        entry = fields(seq, prev, event)
        links.append((entry, entry_hash(entry)))
        prev = links[-1][1]
    return links


class Stored:
    """An entry as a store holds it: fields and hash, each editable."""

    def __init__(self, entry: EntryFields, hashed: str) -> None:
        self.__dict__.update(vars(entry))
        self.hash = hashed


def stored(*events: bytes) -> list[Stored]:
    return [Stored(entry, hashed) for entry, hashed in chain(*events)]


def test_intact_chain_verifies() -> None:
    assert verify_chain(stored(b"a", b"b", b"c")) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("event", b"B"),
        ("recorded_at", datetime(2030, 1, 1, tzinfo=UTC)),
        ("source_topic", "kawal.inbound.bkn"),
        ("source_partition", 3),
        ("source_offset", 99),
        ("key_id", "bkn/0011223344556677"),
        ("signature", b"t" * 64),
        ("case_id", "00000000-0000-5000-8000-000000000000"),
    ],
)
def test_editing_any_hashed_column_is_found_at_its_seq(column: str, value: object) -> None:
    entries = stored(b"a", b"b", b"c")
    setattr(entries[1], column, value)

    broken = verify_chain(entries)  # type: ignore[arg-type]

    assert broken is not None
    assert broken.seq == 2


def test_deleted_entry_is_found() -> None:
    entries = stored(b"a", b"b", b"c")
    del entries[1]

    broken = verify_chain(entries)  # type: ignore[arg-type]

    assert broken is not None
    assert broken.seq == 2


def test_reordered_entries_are_found() -> None:
    entries = stored(b"a", b"b", b"c")
    entries[1], entries[2] = entries[2], entries[1]

    broken = verify_chain(entries)  # type: ignore[arg-type]

    assert broken is not None
    assert broken.seq == 2


def test_the_hash_counts_whole_milliseconds_as_avro_does() -> None:
    entry = fields(1, GENESIS_HASH, b"a")
    same = replace(entry, recorded_at=entry.recorded_at + timedelta(microseconds=999))
    later = replace(entry, recorded_at=entry.recorded_at + timedelta(milliseconds=1))

    assert entry_hash(same) == entry_hash(entry)
    assert entry_hash(later) != entry_hash(entry)


def test_case_chain_round_trips_through_the_table_value() -> None:
    state = CaseChain()
    state.extend("e1", state.place("e1", lambda seq, prev: fields(seq, prev, b"a")))

    again = CaseChain.from_json(state.to_json())

    assert again == state
    assert again.last_seq == 1
    assert again.hashes == [entry_hash(fields(1, GENESIS_HASH, b"a"))]
    assert again.head == (1, again.hashes[0])
    assert again.prev_hash(1) == GENESIS_HASH
    assert again.prev_hash(2) == state.hashes[0]


def test_a_placed_event_changes_the_chain_only_when_extended() -> None:
    state = CaseChain()
    first = state.place("e1", lambda seq, prev: fields(seq, prev, b"a"))
    assert state.last_seq == 0
    assert state.head is None
    state.extend("e1", first)

    again = state.place("e1", lambda seq, prev: fields(seq, prev, b"a"))
    second = state.place("e2", lambda seq, prev: fields(seq, prev, b"b"))

    assert (again.seq, again.hash, again.new) == (1, first.hash, False)
    assert (second.seq, second.prev_hash, second.new) == (2, first.hash, True)
    assert second.hash == entry_hash(fields(2, first.hash, b"b"))
