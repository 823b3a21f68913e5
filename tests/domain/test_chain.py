"""The hash chain and the ledger's chain state, without a broker."""

from __future__ import annotations

from dataclasses import dataclass, replace

from streams.domain.chain import GENESIS_HASH, chain_hash, verify_chain
from streams.domain.ledger import CaseChain


@dataclass(frozen=True)
class Link:
    seq: int
    prev_hash: str
    hash: str
    event: bytes


def chain(*events: bytes) -> list[Link]:
    links, prev = [], GENESIS_HASH
    for seq, event in enumerate(events, start=1):
        link = Link(seq, prev, chain_hash(prev, event), event)
        links.append(link)
        prev = link.hash
    return links


def test_intact_chain_verifies() -> None:
    assert verify_chain(chain(b"a", b"b", b"c")) is None


def test_flipped_byte_is_found_at_its_seq() -> None:
    links = chain(b"a", b"b", b"c")
    links[1] = replace(links[1], event=b"B")

    broken = verify_chain(links)

    assert broken is not None
    assert broken.seq == 2


def test_deleted_entry_is_found() -> None:
    links = chain(b"a", b"b", b"c")
    del links[1]

    broken = verify_chain(links)

    assert broken is not None
    assert broken.seq == 2


def test_reordered_entries_are_found() -> None:
    links = chain(b"a", b"b", b"c")
    links[1], links[2] = links[2], links[1]

    broken = verify_chain(links)

    assert broken is not None
    assert broken.seq == 2


def test_case_chain_round_trips_through_the_table_value() -> None:
    state = CaseChain()
    state.extend("e1", state.place("e1", b"a"))

    again = CaseChain.from_json(state.to_json())

    assert again == state
    assert again.last_seq == 1
    assert again.hashes == [chain_hash(GENESIS_HASH, b"a")]
    assert again.prev_hash(1) == GENESIS_HASH
    assert again.prev_hash(2) == state.hashes[0]


def test_a_placed_event_changes_the_chain_only_when_extended() -> None:
    state = CaseChain()
    first = state.place("e1", b"a")
    assert state.last_seq == 0
    state.extend("e1", first)

    again = state.place("e1", b"a")
    second = state.place("e2", b"b")

    assert (again.seq, again.hash, again.new) == (1, first.hash, False)
    assert (second.seq, second.prev_hash, second.new) == (2, first.hash, True)
    assert second.hash == chain_hash(first.hash, b"b")
