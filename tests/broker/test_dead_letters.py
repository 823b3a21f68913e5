"""Dead letters as `kawal dlq` reads them: which are replayable, and why the others are not."""

from __future__ import annotations

import pytest

from connectors.errors import ConnectorConfigError
from connectors.redelivery import Redelivery, parse_positions
from streams.broker.dead_letters import DeadLetterRecord, not_replayable_reason

SEALED = b"\xc3\x01"


def _letter(topic: str, payload: bytes = SEALED) -> dict[str, object]:
    return {"source_topic": topic, "source_partition": 2, "source_offset": 17, "payload": payload}


def test_a_sealed_record_from_an_inbound_topic_is_replayable() -> None:
    record = DeadLetterRecord(0, 0, None, _letter("kawal.inbound.bawaslu.33"))

    assert record.replayable
    assert not_replayable_reason(record.letter) is None


def test_a_dead_letter_without_payload_is_not_replayable_and_its_sender_resends() -> None:
    letter = _letter("kawal.inbound.bawaslu.33", b"")

    assert not DeadLetterRecord(0, 0, None, letter).replayable
    assert "its sender sends it again" in str(not_replayable_reason(letter))


def test_a_record_read_from_a_system_is_corrected_there() -> None:
    letter = _letter("system:siasn")

    assert not DeadLetterRecord(0, 0, None, letter).replayable
    reason = str(not_replayable_reason(letter))
    assert "correct the record in that system" in reason
    assert "--reread-after" in reason  # a record corrected in place is read again so


def test_an_entry_of_a_feed_is_redelivered_by_its_connector_not_replayed() -> None:
    letter = _letter("kawal.outbound.bkn")

    reason = str(not_replayable_reason(letter))

    assert not DeadLetterRecord(0, 0, None, letter).replayable
    assert "only the hub writes" in reason
    assert "--redeliver-from 2:17" in reason


@pytest.mark.parametrize("topic", ["kawal.heads", "kawal.case.audit", "kawal.inboundx"])
def test_a_record_of_any_other_topic_is_not_replayable(topic: str) -> None:
    reason = str(not_replayable_reason(_letter(topic)))

    assert "not an inbound topic" in reason
    assert f"stays on {topic} at 2:17" in reason


def test_redelivery_positions_are_parsed_and_the_lowest_offset_wins() -> None:
    assert parse_positions(["2:17", "0:3", "2:5"]) == {2: 5, 0: 3}


@pytest.mark.parametrize("value", ["17", "a:1", "1:-3", ":", "1:2:3"])
def test_a_malformed_redelivery_position_is_refused(value: str) -> None:
    with pytest.raises(ConnectorConfigError, match="expected PARTITION:OFFSET"):
        parse_positions([value])


def test_a_redelivery_position_on_a_partition_the_feed_has_is_kept() -> None:
    redelivery = Redelivery("kawal.outbound.bkn", {0: 133})

    redelivery.check_partitions({0})

    assert redelivery.pending == {0: 133}


def test_a_redelivery_position_on_a_partition_the_feed_lacks_is_refused() -> None:
    redelivery = Redelivery("kawal.outbound.bkn", {0: 133, 7: 0})

    with pytest.raises(
        ConnectorConfigError, match=r"7:0: the feed kawal.outbound.bkn has partition 0 only"
    ):
        redelivery.check_partitions({0})
    with pytest.raises(ConnectorConfigError, match="is not on the broker"):
        redelivery.check_partitions(set())
