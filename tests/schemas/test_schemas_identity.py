import uuid
from typing import Any

import pytest

from schemas.errors import InvalidIdentifierError
from schemas.identity import KAWAL_CASE_NAMESPACE, case_id_for, new_event_id


def test_namespace_is_the_documented_constant() -> None:
    assert uuid.uuid5(uuid.NAMESPACE_URL, "urn:kawal:case") == KAWAL_CASE_NAMESPACE


def test_case_id_is_deterministic() -> None:
    first = case_id_for("bawaslu.3374", "001/LP/2024")

    assert case_id_for("bawaslu.3374", "001/LP/2024") == first
    assert first == "4816ae98-521d-57ba-8634-74a7997c4f61"
    assert uuid.UUID(first).version == 5


def test_case_id_depends_on_institution_and_number() -> None:
    ids = {
        case_id_for("bawaslu.3374", "001/LP/2024"),
        case_id_for("bawaslu.33", "001/LP/2024"),
        case_id_for("bawaslu.3374", "002/LP/2024"),
    }

    assert len(ids) == 3


@pytest.mark.parametrize(
    ("institution", "case_number"), [("", "1"), ("bkn", ""), ("bawaslu:33", "1")]
)
def test_ambiguous_or_empty_parts_are_rejected(institution: str, case_number: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        case_id_for(institution, case_number)


@pytest.mark.parametrize(
    ("institution", "case_number", "named"),
    [
        ("bkn", None, "case number that is a NoneType"),
        ("bkn", 123, "case number that is a int"),
        (None, "1", "institution id that is a NoneType"),
    ],
    ids=["sql-null", "number", "no-institution"],
)
def test_a_part_that_is_no_text_is_refused_with_what_to_do(
    institution: Any, case_number: Any, named: str
) -> None:
    """Before, None failed with a TypeError and 123 gave a case id like "123"'s."""
    with pytest.raises(InvalidIdentifierError) as refused:
        case_id_for(institution, case_number)

    assert str(refused.value) == (
        f"cannot derive a case_id from a {named}, not text; map the system's value to a "
        "string (a missing case number is no case number)"
    )


def test_new_event_ids_are_random_uuid4() -> None:
    first, second = new_event_id(), new_event_id()

    assert first != second
    assert uuid.UUID(first).version == 4
    assert str(uuid.UUID(first)) == first
