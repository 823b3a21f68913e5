"""The dead letters of one event, as ``kawal dlq`` tests through a real hub read them."""

from __future__ import annotations

from datetime import date
from typing import Any

from streams.topics import inbound_topic
from tests.hubtools import RunningHub, envelope


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


def objection(case_id: str, decree_number: str, filed_with: str = "PPK_SUPERIOR") -> dict[str, Any]:
    """The civil servant's objection, through the PPK, to ``decree_number``, to ``filed_with``."""
    return {
        "envelope": envelope(case_id, "ppk.3374", "ObjectionFiled"),
        "filed_with": filed_with,
        "filed_on": date(2024, 11, 25),
        "contested_decree_number": decree_number,
        "appellant_nip": "198501012010011001",
        "grounds": "The facts were misread.",
    }
