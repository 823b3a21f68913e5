"""What a report must name to open a case: a region with a province, a PPK, a NIP if any."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.pseudonyms import case_pseudonym
from schemas.field_formats import ELECTION_FORM, NIP_FORM, REGION_CODE_FORM, REPORTER_REF_FORM
from schemas.identity import case_id_for
from streams.domain.institutions import load_institutions
from streams.domain.parties import check_report
from streams.domain.reasons import Reason

INSTITUTIONS = {institution.id: institution for institution in load_institutions()}
#: A report's personal data as disclosed to the hub: a well-formed NIP.
KNOWN_NIP = {"subject_nip": "198503302010011004", "subject_name": "Budi Santoso"}


CASE_NUMBER = "33/LP/PB/2023/017"


def named(**fields: Any) -> dict[str, Any]:
    envelope = {"source": "bawaslu.33", "case_id": case_id_for("bawaslu.33", CASE_NUMBER)}
    return {
        "envelope": envelope,
        "case_number": CASE_NUMBER,
        "region_code": "3374",
        "employing_agency": "ppk.3374",
        "election": "pilkada-2024",
        "reporter_ref": "reporter:" + "5e" * 12,
    } | fields


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
    assert check_report(INSTITUTIONS, fields, KNOWN_NIP) is None


@pytest.mark.parametrize(
    "region",
    ["33\u0667\u0664", "\uff13\uff13\uff17\uff14", "3374 ", "337", "9971", "081234567890"],
)
def test_a_region_that_is_no_kemendagri_code_of_a_province_is_refused(region: str) -> None:
    rejection = check_report(INSTITUTIONS, named(region_code=region), KNOWN_NIP)

    assert rejection is not None
    assert rejection.reason is Reason.UNKNOWN_REGION
    # Its words are those of any other code of its kind: nothing of the value is quoted.
    like = "x" if rejection.detail.endswith(REGION_CODE_FORM) else "99"
    assert rejection == check_report(INSTITUTIONS, named(region_code=like), KNOWN_NIP)


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
    rejection = check_report(INSTITUTIONS, named(employing_agency=agency), KNOWN_NIP)

    assert rejection is not None
    assert rejection.reason is Reason.NOT_AN_EMPLOYING_AGENCY
    assert why in rejection.detail
    assert "Budi" not in rejection.detail


@pytest.mark.parametrize(
    "election", ["", " pilkada-2024", "pilkada-2024\n", "pilkada\x1b[2J", "p" * 101, "pilkada\x85"]
)
def test_an_election_the_statistics_cannot_be_filtered_by_is_refused(election: str) -> None:
    rejection = check_report(INSTITUTIONS, named(election=election), KNOWN_NIP)

    assert rejection is not None
    assert rejection.reason is Reason.INVALID_ELECTION
    assert rejection.detail == f"election must be {ELECTION_FORM}"


@pytest.mark.parametrize("election", ["pemilu-2024", "Pilkada Kota Semarang 2024", "p" * 100])
def test_an_election_in_printable_words_is_taken(election: str) -> None:
    assert check_report(INSTITUTIONS, named(election=election), KNOWN_NIP) is None


@pytest.mark.parametrize("nip", ["198503302010011004", ""])
def test_a_nip_of_18_digits_or_none_known_is_taken(nip: str) -> None:
    assert check_report(INSTITUTIONS, named(), {"subject_nip": nip}) is None


@pytest.mark.parametrize(
    "nip",
    [
        "123",
        "1985033020100110041",
        "19850330 2010011004",
        "\uff11\uff19\uff18\uff15" + "0" * 14,
        "19850330201001100\u0664",
        "Budi Santoso",
    ],
)
def test_a_nip_that_is_not_18_digits_is_refused_without_quoting_it(nip: str) -> None:
    rejection = check_report(INSTITUTIONS, named(), {"subject_nip": nip})

    assert rejection is not None
    assert rejection.reason is Reason.INVALID_NIP
    assert rejection.detail == f"subject_nip must be {NIP_FORM}, or empty if unknown"


@pytest.mark.parametrize(
    "ref", ["reporter:" + "0123456789abcdef" * 1 + "01234567", "finding:bawaslu.33"]
)
def test_a_pseudonym_or_the_senders_own_finding_is_taken(ref: str) -> None:
    assert check_report(INSTITUTIONS, named(reporter_ref=ref), KNOWN_NIP) is None


def test_the_pseudonym_a_connector_derives_is_taken() -> None:
    case_id = named()["envelope"]["case_id"]
    derived = case_pseudonym(b"k" * 32, case_id, "SIGAP-2024-000917")

    assert check_report(INSTITUTIONS, named(reporter_ref=derived), KNOWN_NIP) is None


@pytest.mark.parametrize(
    "ref",
    [
        "Siti Aminah",  # a name
        "reporter:3374015203900002",  # a NIK behind the prefix
        "reporter:" + "0123456789ABCDEF01234567",  # upper case: not what the derivation writes
        "reporter:" + "0a" * 13,  # 26 digits
        "reporter:" + "0a" * 12 + "\n",
        "finding:bawaslu",  # another institution's finding
        "",
    ],
)
def test_a_reporter_ref_that_is_no_pseudonym_is_refused_without_quoting_it(ref: str) -> None:
    rejection = check_report(INSTITUTIONS, named(reporter_ref=ref), KNOWN_NIP)

    assert rejection is not None
    assert rejection.reason is Reason.REPORTER_REF_NOT_PSEUDONYM
    assert rejection.detail.startswith(f"reporter_ref must be {REPORTER_REF_FORM};")
    assert ref.strip() == "" or ref not in rejection.detail


@pytest.mark.parametrize(
    "case_id",
    [
        "0f4c7f51-0c4b-4c67-9f5e-4a4f8a1d2b3c",  # a random UUIDv4
        case_id_for("bawaslu.33", CASE_NUMBER + " "),  # the number not as written
        case_id_for("bawaslu", CASE_NUMBER),  # another institution's numbering
    ],
)
def test_a_report_whose_case_id_is_not_derived_from_its_number_is_refused(case_id: str) -> None:
    """Else the same report sent again with another id would open a second case."""
    report = named(envelope={"source": "bawaslu.33", "case_id": case_id})

    rejection = check_report(INSTITUTIONS, report, KNOWN_NIP)

    assert rejection is not None
    assert rejection.reason is Reason.CASE_ID_NOT_DERIVED
    assert "2667678e-0dca-5d83-9062-4919555692a6" in rejection.detail
    assert "'<envelope.source>:<case_number>' exactly as written, here " in rejection.detail
    assert "1d7a0c7e-d057-5caa-b371-38bf60d127fb" in rejection.detail
