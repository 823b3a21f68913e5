"""The hash chain and the ledger's chain state, without a broker."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from streams.domain.chain import GENESIS_HASH, EntryFields, entry_hash, verify_chain
from streams.domain.ledger import AcceptedEvent, CaseChain, legacy_entries

CASE = "6b0c6f3e-8a0e-5d5b-9a56-3f3f1c1d2e4a"


def fields(seq: int, prev: str, event: bytes) -> EntryFields:
    return EntryFields(
        case_id=CASE,
        seq=seq,
        prev_hash=prev,
        recorded_at=datetime(2026, 12, 4, 8, 0, tzinfo=UTC) + timedelta(seconds=seq),
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
    state.extend(state.place(lambda seq, prev: fields(seq, prev, b"a")))

    again = CaseChain.from_json(state.to_json())

    assert again == state
    assert again.last_seq == 1
    assert again.head == (1, entry_hash(fields(1, GENESIS_HASH, b"a")))
    assert again.prev_hash(2) == again.last_hash
    with pytest.raises(ValueError, match="only entry 1 follows"):
        again.prev_hash(1)


def test_a_placed_event_changes_the_chain_only_when_extended() -> None:
    state = CaseChain()
    assert state.prev_hash(1) == GENESIS_HASH
    first = state.place(lambda seq, prev: fields(seq, prev, b"a"))
    assert state.last_seq == 0
    assert state.head is None
    state.extend(first)

    earlier = AcceptedEvent("kawal.inbound.bawaslu:0:1", first.seq, first.prev_hash, first.hash)
    again = state.place(lambda seq, prev: fields(seq, prev, b"a"), earlier)
    second = state.place(lambda seq, prev: fields(seq, prev, b"b"))

    assert (again.seq, again.hash, again.new) == (1, first.hash, False)
    assert (second.seq, second.prev_hash, second.new) == (2, first.hash, True)
    assert second.hash == entry_hash(fields(2, first.hash, b"b"))
    with pytest.raises(ValueError, match="does not follow"):
        state.extend(replace(second, seq=3))


def test_a_redelivery_many_entries_back_gets_its_entry_from_its_index_value() -> None:
    state, kept = CaseChain(), {}
    for seq in range(1, 201):
        link = state.place(lambda seq, prev: fields(seq, prev, b"%d" % seq))
        state.extend(link)
        kept[seq] = AcceptedEvent(f"t:0:{seq}", link.seq, link.prev_hash, link.hash)

    again = state.place(lambda seq, prev: fields(seq, prev, b"3"), kept[3])

    assert (again.seq, again.prev_hash, again.hash, again.new) == (
        3,
        kept[2].hash,
        entry_hash(fields(3, kept[2].hash, b"3")),
        False,
    )
    assert AcceptedEvent.from_json(kept[3].to_json()) == kept[3]


def test_the_chain_value_keeps_its_size_as_the_chain_grows() -> None:
    state = CaseChain()
    sizes = []
    for seq in range(1, 201):
        state.extend(state.place(lambda seq, prev: fields(seq, prev, b"%d" % seq)))
        sizes.append(len(json.dumps(state.to_json())))

    # Only the sequence number's digits grow; every entry's hash is no longer kept.
    assert sizes[199] - sizes[9] == 1


def test_a_chain_value_of_an_earlier_version_gives_its_head_and_its_index_values() -> None:
    links = chain(b"a", b"b", b"c")
    hashes = [hashed for _, hashed in links]
    old = {"hashes": hashes, "seq_of": {"e1": 1, "e2": 2, "e3": 3}}
    accepted = {"e1": "t:0:4", "e2": "t:0:5", "e3": "t:1:9"}

    state = CaseChain.from_json(old)
    entries = legacy_entries(old, accepted)

    assert state == CaseChain(3, hashes[2])
    assert state.place(lambda seq, prev: fields(seq, prev, b"d")).prev_hash == hashes[2]
    assert entries == {
        "e1": AcceptedEvent("t:0:4", 1, GENESIS_HASH, hashes[0]),
        "e2": AcceptedEvent("t:0:5", 2, hashes[0], hashes[1]),
        "e3": AcceptedEvent("t:1:9", 3, hashes[1], hashes[2]),
    }
    assert CaseChain.from_json({"hashes": [], "seq_of": {}}) == CaseChain()
