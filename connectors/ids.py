"""Deterministic event ids: the same system record always yields the same event id.

So a connector that reads a record again after a crash publishes the same events, and the hub
recognises them (duplicates never reach a trail twice).
"""

from __future__ import annotations

import uuid

#: Namespace of connector-derived event ids.
EVENT_NAMESPACE = uuid.UUID("6f1b1d3e-5c7a-4f43-9d38-3f0a4c2b7e11")


def event_id_for(institution: str, source_id: str, event_type: str) -> str:
    """The id of the ``event_type`` event mapped from record ``source_id`` of ``institution``."""
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{institution}/{source_id}/{event_type}"))
