"""The fields of an event that travel in clear, checked by the connector before it signs.

The hub refuses an event whose ``envelope.actor_ref`` is no pseudonym, whose report's
``case_number`` holds a NIK or a NIP, or whose ``envelope.source`` is not its sender. Found
only there, the event has already been published: a name or a NIP in clear on the
institution's inbound topic for as long as the topic keeps it (30 days). The runtime refuses
such an event before it signs it, with the hub's reason code and what to change; nothing of
the value is quoted.

Example:
    >>> clear_field_refusal("ppk.3374", "SanctionImposed", {"source": "ppk.3374",
    ...     "actor_ref": "user:u-0007"}, {})
    >>> clear_field_refusal("ppk.3374", "SanctionImposed", {"source": "ppk.3374",
    ...     "actor_ref": "user:198501012010011001"}, {})[0]
    'actor_ref_not_pseudonym'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streams.domain.clear_fields import actor_ref_refusal, case_number_refusal

SOURCE_MISMATCH = "source_mismatch"


def clear_field_refusal(
    institution: str, event_type: str, envelope: Mapping[str, Any], record: Mapping[str, Any]
) -> tuple[str, str] | None:
    """The hub's reason code and what to change, for an event it would refuse; else None.

    Args:
        institution: the institution the connector signs for.
        event_type: the event's type.
        envelope: the event's envelope.
        record: the whole event (a report's ``case_number`` is read from it).
    """
    if envelope.get("source") != institution:
        return SOURCE_MISMATCH, (
            f"envelope.source is not {institution}, the institution this connector signs for: "
            f"set it to {institution} (an institution sends its own events only)"
        )
    number = record.get("case_number")
    refused = actor_ref_refusal(envelope.get("actor_ref")) or (
        case_number_refusal(number)
        if event_type == "ReportReceived" and isinstance(number, str)
        else None
    )
    return (refused.reason.value, refused.detail) if refused else None
