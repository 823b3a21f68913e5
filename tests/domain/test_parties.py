"""What a report must name to open a case: a region with a province, a PPK as employer."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.field_formats import ELECTION_FORM, REGION_CODE_FORM
from streams.domain.institutions import load_institutions
from streams.domain.parties import check_report
from streams.domain.reasons import Reason

INSTITUTIONS = {institution.id: institution for institution in load_institutions()}


def named(**fields: str) -> dict[str, Any]:
    return {"region_code": "3374", "employing_agency": "ppk.3374", "election": "pilkada-2024"} | (
        fields
    )


@pytest.mark.parametrize(
    "fields",
    [
        named(),
        named(region_code="33"),
        named(region_code="3374011001"),
        # A PPK that is not connected yet: its follow-up deadlines still run, and show it.
        named(employing_agency="ppk.3301"),
    ],
)
def test_a_region_with_a_province_and_a_ppk_open_a_case(fields: dict[str, Any]) -> None:
    assert check_report(INSTITUTIONS, fields) is None


@pytest.mark.parametrize(
    "region",
    ["33\u0667\u0664", "\uff13\uff13\uff17\uff14", "3374 ", "337", "9971", "081234567890"],
)
def test_a_region_that_is_no_kemendagri_code_of_a_province_is_refused(region: str) -> None:
    rejection = check_report(INSTITUTIONS, named(region_code=region))

    assert rejection is not None
    assert rejection.reason is Reason.UNKNOWN_REGION
    # Its words are those of any other code of its kind: nothing of the value is quoted.
    like = "x" if rejection.detail.endswith(REGION_CODE_FORM) else "99"
    assert rejection == check_report(INSTITUTIONS, named(region_code=like))


@pytest.mark.parametrize(
    ("agency", "why"),
    [
        ("bkn", "registered as personnel_agency, not as a PPK"),
        ("inspektorat.3374", "registered as regional_inspectorate, not as a PPK"),
        ("Budi Santoso", "not an institution id"),
        ("", "not an institution id"),
    ],
)
def test_an_employer_that_is_no_ppk_is_refused(agency: str, why: str) -> None:
    rejection = check_report(INSTITUTIONS, named(employing_agency=agency))

    assert rejection is not None
    assert rejection.reason is Reason.NOT_AN_EMPLOYING_AGENCY
    assert why in rejection.detail
    assert "Budi" not in rejection.detail


@pytest.mark.parametrize(
    "election", ["", " pilkada-2024", "pilkada-2024\n", "pilkada\x1b[2J", "p" * 101, "pilkada\x85"]
)
def test_an_election_the_statistics_cannot_be_filtered_by_is_refused(election: str) -> None:
    rejection = check_report(INSTITUTIONS, named(election=election))

    assert rejection is not None
    assert rejection.reason is Reason.INVALID_ELECTION
    assert rejection.detail == f"election must be {ELECTION_FORM}"


@pytest.mark.parametrize("election", ["pemilu-2024", "Pilkada Kota Semarang 2024", "p" * 100])
def test_an_election_in_printable_words_is_taken(election: str) -> None:
    assert check_report(INSTITUTIONS, named(election=election)) is None
