"""The dead letters of one event, as ``kawal dlq`` tests through a real hub read them."""

from __future__ import annotations

from typing import Any

from streams.topics import inbound_topic
from tests.hubtools import RunningHub


def letters_of(hub: RunningHub, event: dict[str, Any], at_least: int = 1) -> list[dict[str, Any]]:
    """The dead letters of ``event``'s record, once ``at_least`` of them are in."""
    envelope = event["envelope"]
    return hub.read(
        "kawal.dlq",
        lambda letter: (
            letter["source_topic"] == inbound_topic(envelope["source"])
            and hub.event_id_in(letter) == envelope["event_id"]
        ),
        at_least=at_least,
    )
