"""A record on another institution's inbound topic: its receipt goes to its signer, or nobody.

On the real hub. BKN's signed event on Bawaslu's topic is refused (``source_mismatch``): BKN,
whose signature held, is told why on its feed, once per event however often it is placed
again; Bawaslu, the topic's owner and so the one who placed it, is told each time on its own
feed. Both receipts and the dead letter name the signer and the placer apart. An unsigned or
forged record naming BKN there proves no sender: only ``kawal.dlq`` keeps it.
"""

from __future__ import annotations

from typing import Any

from streams.domain.signed_events import SIGNED_EVENT
from streams.topics import DLQ, inbound_topic, outbound_topic
from tests.hubtools import RunningHub, report

OWNER = "bawaslu"
SENDER = "bkn"
#: How long a receipt that should not come is waited for, once its record's letter is there:
#: the pipeline sends a refusal's letter and receipt in one batch.
ABSENT_SECONDS = 4.0
#: How often one signed event is placed again on another's topic.
COPIES = 3


def published_on_owner(hub: RunningHub, value: bytes, event: dict[str, Any]) -> str:
    """``value`` on the owner's topic, keyed by ``event``'s case; its event id."""
    hub.publisher.send_raw(OWNER, event["envelope"]["case_id"], value)
    hub.publisher.flush()
    return str(event["envelope"]["event_id"])


def receipts_about(
    hub: RunningHub, institution: str, event_id: str, timeout: float, at_least: int = 1
) -> list[Any]:
    return hub.read(
        outbound_topic(institution),
        lambda r: "status" in r and r.get("event_id") == event_id,
        timeout=timeout,
        at_least=at_least,
    )


def letter_of(hub: RunningHub, value: bytes) -> dict[str, Any]:
    [letter] = hub.read(DLQ, lambda r: hub.letter_payload(r) == value, timeout=60)
    return letter


def test_a_signed_event_on_another_s_topic_is_answered_to_its_signer_and_its_placer(
    hub: RunningHub,
) -> None:
    event = report(SENDER)
    value = hub.signed("ReportReceived", event)
    event_id = published_on_owner(hub, value, event)

    [receipt] = receipts_about(hub, SENDER, event_id, timeout=60)

    assert receipt["status"] == "REJECTED"
    assert receipt["reason_code"] == "source_mismatch"
    # Who signed it and who placed it, apart; and its own topic, where it publishes.
    placed = (
        f"signed by {SENDER}, placed on {inbound_topic(OWNER)} by {OWNER} (the topic's owner, "
        f"its only writer); {SENDER} publishes on {inbound_topic(SENDER)}"
    )
    assert receipt["reason"].startswith(placed), receipt["reason"]
    letter = letter_of(hub, value)
    assert letter["source_topic"] == inbound_topic(OWNER)
    assert letter["reason"] == receipt["reason"]
    # The placer wrote the record: it hears of it, without the head of a case it may not be in.
    [told] = receipts_about(hub, OWNER, event_id, timeout=60)
    assert told["reason_code"] == "source_mismatch"
    assert told["reason"].startswith(
        f"placed on {inbound_topic(OWNER)} by {OWNER}, but signed by {SENDER}"
    ), told["reason"]
    assert told["head_seq"] is None


def test_a_replayed_signed_event_tells_its_signer_once_and_its_placer_each_time(
    hub: RunningHub,
) -> None:
    event = report(SENDER)
    value = hub.signed("ReportReceived", event)
    for _ in range(COPIES):
        event_id = published_on_owner(hub, value, event)

    letters = hub.read(DLQ, lambda r: hub.letter_payload(r) == value, 60, COPIES)
    placer = receipts_about(hub, OWNER, event_id, timeout=60, at_least=COPIES)
    # Every copy is refused and kept; the letters and the placer's receipts are out together.
    assert len(letters) == COPIES
    assert len(placer) == COPIES
    assert {r["source_offset"] for r in placer} == {r["source_offset"] for r in letters}
    signer = receipts_about(hub, SENDER, event_id, timeout=ABSENT_SECONDS, at_least=2)
    assert len(signer) == 1, signer


def test_an_unsigned_event_naming_another_source_goes_to_the_dlq_only(hub: RunningHub) -> None:
    event = report(SENDER)
    value = hub.codec.encode("kawal.events.ReportReceived", event)
    event_id = published_on_owner(hub, value, event)

    letter = letter_of(hub, value)

    assert letter["reason_code"] == "unsigned"
    assert receipts_about(hub, OWNER, event_id, timeout=ABSENT_SECONDS) == []
    assert receipts_about(hub, SENDER, event_id, timeout=1) == []


def test_a_forged_event_naming_another_source_goes_to_the_dlq_only(hub: RunningHub) -> None:
    event = report(SENDER)
    wrapper = hub.codec.decode(hub.signed("ReportReceived", event)).record
    wrapper["signature"] = bytes([wrapper["signature"][0] ^ 1]) + wrapper["signature"][1:]
    value = hub.codec.encode(SIGNED_EVENT, wrapper)
    event_id = published_on_owner(hub, value, event)

    letter = letter_of(hub, value)

    assert letter["reason_code"] == "source_mismatch"
    # Nothing is believed of a forged record: its claimed source is not quoted back.
    assert SENDER not in letter["reason"]
    assert receipts_about(hub, OWNER, event_id, timeout=ABSENT_SECONDS) == []
    assert receipts_about(hub, SENDER, event_id, timeout=1) == []


def test_an_unsigned_event_on_its_own_topic_is_still_answered_to_the_owner(
    hub: RunningHub,
) -> None:
    event = report(OWNER)
    value = hub.codec.encode("kawal.events.ReportReceived", event)
    event_id = published_on_owner(hub, value, event)

    [receipt] = receipts_about(hub, OWNER, event_id, timeout=60)

    assert receipt["reason_code"] == "unsigned"
