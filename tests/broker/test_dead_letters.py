"""Dead letters as `kawal dlq` reads them."""

from __future__ import annotations

from streams.broker.dead_letters import DeadLetterRecord


def test_a_dead_letter_without_payload_is_not_replayable() -> None:
    letter = {"source_topic": "kawal.inbound.bawaslu", "payload": b""}

    assert not DeadLetterRecord(0, 0, None, letter).replayable
    assert DeadLetterRecord(0, 0, None, letter | {"payload": b"\xc3\x01"}).replayable
    from_system = {"source_topic": "system:siasn", "payload": b"\xc3\x01"}
    assert not DeadLetterRecord(0, 0, None, from_system).replayable
