"""The one envelope factory: every field of kawal.Envelope, in the schema's order."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

import schemas.envelope
from schemas.catalog import default_catalog
from schemas.envelope import envelope
from schemas.errors import NaiveTimeError, SchemaMismatchError
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


def _made_at(**times: Any) -> dict[str, Any]:
    return envelope(
        event_id=new_event_id(),
        case_id=case_id_for("bawaslu.3374", "001/LP/2024"),
        event_type="ReportReceived",
        source="bawaslu.3374",
        actor_ref="system:bawaslu.3374",
        **times,
    )


@pytest.mark.parametrize("field", ["event_time", "ingest_time"])
def test_a_time_without_utc_offset_is_refused_where_the_envelope_is_made(field: str) -> None:
    times = {"event_time": datetime(2024, 11, 4, 9, 0, tzinfo=UTC)}
    times[field] = datetime(2024, 11, 4, 9, 0)  # noqa: DTZ001 - the case under test

    with pytest.raises(NaiveTimeError, match=rf"kawal\.Envelope\.{field} is a naive datetime"):
        _made_at(**times)


def test_an_event_time_that_is_no_datetime_is_refused_naming_its_type() -> None:
    with pytest.raises(SchemaMismatchError, match=r"event_time is not a date-time \(str\)") as e:
        _made_at(event_time="2024-11-04T09:00:00+07:00")
    assert "2024" not in str(e.value)


def test_a_time_in_any_zone_is_kept_as_given() -> None:
    wib = datetime(2024, 11, 4, 16, 0, tzinfo=timezone(timedelta(hours=7)))
    assert _made_at(event_time=wib)["event_time"] is wib
