"""The one envelope factory: every field of kawal.Envelope, in the schema's order."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime

import schemas.envelope
from schemas.catalog import default_catalog
from schemas.envelope import envelope
from schemas.identity import case_id_for, new_event_id


def test_the_record_has_every_field_of_the_schema_in_order() -> None:
    record = envelope(
        event_id=new_event_id(),
        case_id=case_id_for("bawaslu.3374", "001/LP/2024"),
        event_type="ReportReceived",
        event_time=datetime(2024, 11, 4, 9, 0, tzinfo=UTC),
        source="bawaslu.3374",
        actor_ref="system:bawaslu.3374",
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )
    fields = [field["name"] for field in default_catalog().schema("kawal.Envelope")["fields"]]
    assert list(record) == fields
    assert record["ingest_time"] is None
    assert record["signature"] is None


def test_the_module_example_runs() -> None:
    assert doctest.testmod(schemas.envelope).failed == 0
