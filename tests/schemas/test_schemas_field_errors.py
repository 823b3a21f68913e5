"""A record that does not fit its schema is refused naming each field and what it takes."""

from __future__ import annotations

from datetime import date

import pytest

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec, SchemaMismatchError
from schemas.field_formats import calendar_day
from tests.schemas.test_schemas_codec import SECRET_NAME, report_received, sanction_imposed

CODEC = AvroCodec(default_catalog())


def test_a_symbol_no_enum_has_names_the_enum_to_pick_from() -> None:
    record = sanction_imposed()
    record["sanction_kind"] = "PUBLIC_SHAMING"

    with pytest.raises(SchemaMismatchError) as refused:
        CODEC.encode("SanctionImposed", record)

    # The symbols to pick from, as the schema lists them: the enum's name alone sent the
    # integrator to the schema file.
    assert "sanction_kind (expected a symbol of kawal.SanctionKind: UNKNOWN, MORAL_CLOSED_" in (
        str(refused.value)
    )
    assert "DEMOTION_12_MONTHS, STAFF_POST_12_MONTHS, HONOURABLE_DISCHARGE)" in str(refused.value)
    assert "PUBLIC_SHAMING" not in str(refused.value)


def test_a_wrong_type_in_a_nullable_field_names_both_types_once() -> None:
    record = report_received()
    record["reporter_identity"] = 5

    with pytest.raises(SchemaMismatchError) as refused:
        CODEC.encode("ReportReceived", record)

    assert "reporter_identity (expected null or string)" in str(refused.value)
    assert str(refused.value).count("reporter_identity") == 1


@pytest.mark.parametrize("wrong", [SECRET_NAME, "2024-13-01"])
def test_text_in_a_date_field_is_a_schema_mismatch_naming_the_field_not_the_value(
    wrong: str,
) -> None:
    # fastavro converts a date while it validates and says "Invalid isoformat string: <value>".
    record = report_received()
    record["discovered_on"] = wrong

    with pytest.raises(SchemaMismatchError) as refused:
        CODEC.encode("ReportReceived", record)

    message = str(refused.value)
    assert "kawal.events.ReportReceived.discovered_on holds a value its type cannot take" in message
    assert wrong not in message
    assert refused.value.__suppress_context__


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2024-11-02", date(2024, 11, 2)),
        ("20241102", None),  # date.fromisoformat takes it
        ("2024-W44-6", None),  # and this week date
        ("2024-02-30", None),
        ("\uff12\uff10\uff12\uff14-11-02", None),  # fullwidth digits
        (" 2024-11-02", None),
    ],
)
def test_a_calendar_day_is_written_yyyy_mm_dd_only(text: str, day: date | None) -> None:
    assert calendar_day(text) == day
