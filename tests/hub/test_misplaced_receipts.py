"""A record on another institution's inbound topic: its receipt goes to its signer, or nobody.

On the real hub. BKN's signed event on Bawaslu's topic is refused (``source_mismatch``) and
BKN, whose signature held, is told why on its feed; Bawaslu, which sent nothing, hears
nothing. An unsigned or forged record naming BKN there proves no sender: only ``kawal.dlq``
keeps it.
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


def published_on_owner(hub: RunningHub, value: bytes, event: dict[str, Any]) -> str:
    """``value`` on the owner's topic, keyed by ``event``'s case; its event id."""
    hub.publisher.send_raw(OWNER, event["envelope"]["case_id"], value)
    hub.publisher.flush()
    return str(event["envelope"]["event_id"])


def receipts_about(hub: RunningHub, institution: str, event_id: str, timeout: float) -> list[Any]:
    return hub.read(
        outbound_topic(institution),
        lambda r: "status" in r and r.get("event_id") == event_id,
        timeout=timeout,
    )


def letter_of(hub: RunningHub, value: bytes) -> dict[str, Any]:
    [letter] = hub.read(DLQ, lambda r: hub.letter_payload(r) == value, timeout=60)
    return letter


def test_a_signed_event_on_another_s_topic_is_answered_to_its_signer_only(
    hub: RunningHub,
) -> None:
    event = report(SENDER)
    value = hub.signed("ReportReceived", event)
    event_id = published_on_owner(hub, value, event)

    [receipt] = receipts_about(hub, SENDER, event_id, timeout=60)

    assert receipt["status"] == "REJECTED"
    assert receipt["reason_code"] == "source_mismatch"
    # Authenticated: its own topic is named, where it publishes the event again.
    assert (
        f"publishes on {inbound_topic(SENDER)}, not on {inbound_topic(OWNER)}"
        in (receipt["reason"])
    )
    assert letter_of(hub, value)["source_topic"] == inbound_topic(OWNER)
    assert receipts_about(hub, OWNER, event_id, timeout=ABSENT_SECONDS) == []


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
