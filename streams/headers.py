"""Kafka record headers: CloudEvents attributes, trace context and the hub's own."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

#: Inbound coordinates (topic:partition:offset) an event was accepted from.
SOURCE_HEADER = "kawal_source"
CE_SPEC_VERSION = "1.0"
CE_TYPE_PREFIX = "id.kawal."


def cloud_event_headers(envelope: Mapping[str, Any]) -> list[tuple[str, bytes]]:
    """CloudEvents binary-mode attributes (and ``traceparent``) for an event envelope."""
    event_time: datetime = envelope["event_time"]
    headers = [
        ("ce_id", envelope["event_id"]),
        ("ce_source", f"kawal:{envelope['source']}"),
        ("ce_type", f"{CE_TYPE_PREFIX}{envelope['event_type']}"),
        ("ce_specversion", CE_SPEC_VERSION),
        ("ce_time", event_time.isoformat()),
    ]
    if envelope.get("traceparent"):
        headers.append(("traceparent", envelope["traceparent"]))
    return [(name, str(value).encode()) for name, value in headers]


def header_value(
    headers: Iterable[tuple[str, bytes]] | Mapping[str, bytes] | None, name: str
) -> str | None:
    """One header's value as text, whatever shape the client gives headers in."""
    if headers is None:
        return None
    items = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in items:
        if key == name:
            return value.decode() if isinstance(value, bytes) else str(value)
    return None
