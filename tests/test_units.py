"""Pure parts of the hub: hash chain, ledger state, broker URLs, registry, topics."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from streams.broker.dead_letters import DeadLetterRecord
from streams.broker.endpoint import BrokerUrlError, parse_broker_url
from streams.domain.chain import GENESIS_HASH, chain_hash, verify_chain
from streams.domain.institutions import RegistryError, load_institutions
from streams.domain.ledger import CaseChain
from streams.topics import all_topics, changelog_topic, inbound_topic, institution_of_inbound


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


def test_broker_urls() -> None:
    kafka = parse_broker_url("kafka://k1:9092;k2:9092")
    tansu = parse_broker_url("tansu://127.0.0.1:9092")

    assert kafka.bootstrap == ["k1:9092", "k2:9092"]
    assert not kafka.is_tansu
    assert tansu.is_tansu
    assert tansu.faust_url == "tansu://127.0.0.1:9092"
    assert kafka.faust_url == "kawal://k1:9092;k2:9092"


@pytest.mark.parametrize("url", ["redpanda://x:1", "kafka://", "kafka://host", "host:9092"])
def test_bad_broker_urls_say_what_to_write(url: str) -> None:
    with pytest.raises(BrokerUrlError, match="kafka://"):
        parse_broker_url(url)


def test_bundled_registry_has_every_role() -> None:
    roles = {inst.role for inst in load_institutions()}

    assert roles >= {"election_supervisor", "recommending_authority", "personnel_agency", "ppk"}


def test_registry_entry_without_role_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "institutions.toml"
    path.write_text('[[institution]]\nid = "bawaslu"\n')

    with pytest.raises(RegistryError, match="lacks 'role'"):
        load_institutions(path)


def test_every_case_topic_shares_one_partition_count() -> None:
    specs = all_topics(load_institutions(), 6)
    by_name = {spec.name: spec.partitions for spec in specs}

    assert by_name[inbound_topic("bkn")] == 6
    assert by_name[changelog_topic("case-state")] == 6
    assert by_name["kawal.case.audit"] == 6
    assert institution_of_inbound(inbound_topic("ppk.3374")) == "ppk.3374"


def test_a_dead_letter_without_payload_is_not_replayable() -> None:
    letter = {"source_topic": "kawal.inbound.bawaslu", "payload": b""}

    assert not DeadLetterRecord(0, 0, None, letter).replayable
    assert DeadLetterRecord(0, 0, None, letter | {"payload": b"\xc3\x01"}).replayable
    from_system = {"source_topic": "system:siasn", "payload": b"\xc3\x01"}
    assert not DeadLetterRecord(0, 0, None, from_system).replayable
