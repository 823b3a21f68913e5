"""Whatever an institution's system hands a reference connector, its mapping refuses or maps it.

The runtime dead-letters a record whose mapping raises :class:`PermanentError` (a field it
lacks or holds wrong) or whose events the shared schemas refuse (:class:`CodecError`), and goes
on. Any other exception would fail the whole pass and come back at the next one: one bad
record would hold back every record after it. Generated Bawaslu posts and inspectorate rows
(a complete record with fields changed, dropped or added, or any JSON) are mapped here, and
the events they map to encoded, as the runtime does; nothing else may be raised.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from connectors.bawaslu.mapping import PostMapper
from connectors.errors import PermanentError
from connectors.inspektorat.rows import EXTRA_FIELDS, RowMapper
from connectors.inspektorat.simulator import COLUMNS
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec, CodecError
from tests.fuzzing import fuzz_settings

CATALOG = default_catalog()
CODEC = AvroCodec(CATALOG)
TEXT = st.text(max_size=40)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
#: A report post Bawaslu's system sends (connectors/bawaslu/mapping.py).
BAWASLU_REPORT: dict[str, Any] = {
    "id": "P-1",
    "type": "report",
    "case_number": "001/LP/PB/33.74/XI/2024",
    "occurred_at": "2024-11-02T09:00:00+07:00",
    "officer_ref": "officer:7f3a",
    "election": "pilkada-2024",
    "region_code": "3374",
    "employing_agency": "ppk.3374",
    "violation": "ETHICS_BANNER",
    "discovered_on": "2024-11-01",
    "summary": "Spanduk calon di kantor.",
    "subject": {"nip": "198501012010011001", "name": "Budi"},
    "reporter": {"ref": "reporter:abc", "identity": "Siti <siti@example.org>"},
}
BAWASLU_FIELDS = (
    *BAWASLU_REPORT,
    "case_id",
    "channel",
    "registration_number",
    "registered_on",
    "needed_more_information",
    "reason",
    "explanation",
    "rejected_on",
    "passed_to",
    "verdict",
    "verified_by",
    "completed_on",
    "assessment_reference",
    "findings",
    "to_authority",
    "referral_number",
    "forwarded_on",
)
BAWASLU_TYPES = ("report", "registration", "rejection", "verification", "referral")
#: A report row of an inspectorate's batch (connectors/inspektorat/rows.py).
INSPEKTORAT_REPORT: dict[str, Any] = {
    "record_type": "report",
    "record_id": "R-1",
    "recorded_at": "2024-11-02T09:00:00",
    "case_number": "ITK/001/2024",
    "election": "pilkada-2024",
    "region_code": "3374",
    "employing_agency": "ppk.3374",
    "violation": "ETHICS_BANNER",
    "discovered_on": "2024-11-01",
    "summary": "Spanduk calon di kantor.",
    "subject_nip": "198501012010011001",
    "subject_name": "Budi",
    "reporter_ref": "reporter:abc",
}
#: The columns an inspectorate exports, and one its rows must not have (beyond the header).
INSPEKTORAT_FIELDS = (*COLUMNS, EXTRA_FIELDS)


@st.composite
def records(
    draw: st.DrawFn,
    complete: dict[str, Any],
    fields: tuple[str, ...],
    types: tuple[str, ...],
    objects: bool = False,
) -> Any:
    """``complete`` with fields changed, dropped or added, or any JSON (an object, ``objects``)."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.dictionaries(TEXT, VALUES, max_size=5) if objects else VALUES)
    record = dict(complete)
    record[next(iter(complete))] = draw(st.sampled_from(types) | TEXT)
    for name in draw(st.lists(st.sampled_from(fields) | TEXT, max_size=4)):
        if draw(st.booleans()):
            record.pop(name, None)
        else:
            record[name] = draw(VALUES | st.sampled_from(types))
    return record


def mapped_or_refused(map_record: Any, record: Any) -> None:
    """``map_record(record)`` maps to events the codec takes or refuses, or is refused."""
    try:
        events = map_record(record)
    except PermanentError:
        return
    for event in events:
        try:
            CODEC.encode(event.event_type, event.record)
        except CodecError:
            continue


@fuzz_settings(400)
# The webhook takes only a JSON object with an id and a type (connectors/bawaslu/intake.py).
@given(post=records(BAWASLU_REPORT, BAWASLU_FIELDS, BAWASLU_TYPES, objects=True))
def test_every_bawaslu_post_is_mapped_or_refused(post: Any) -> None:
    mapper = PostMapper("bawaslu.33", CATALOG, b"k" * 32)
    mapped_or_refused(lambda record: mapper.events("P-1", record), post)


@fuzz_settings(400)
@given(row=records(INSPEKTORAT_REPORT, INSPEKTORAT_FIELDS, ("report", "examination")))
def test_every_inspectorate_row_is_mapped_or_refused(row: Any) -> None:
    violations = frozenset(CATALOG.schema("kawal.ViolationCategory")["symbols"])
    mapper = RowMapper("inspektorat.3374", UTC, violations)
    mapped_or_refused(mapper.events, row)
