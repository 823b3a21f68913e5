"""Who may act on a case beyond their role: its own PPK, the inspectorate of its region."""

from __future__ import annotations

from datetime import date
from typing import Any

from schemas.catalog import default_catalog
from streams.domain.authority import load_authority_map
from streams.domain.authorization import authorize
from streams.domain.institutions import Institution
from streams.domain.lifecycle import advance, check_transition
from streams.domain.parties import check_report, is_party, parties_of_report
from streams.domain.reasons import Reason
from tests.hubtools import (
    envelope,
    recommended_case,
    report,
    sanction,
)

CATALOG = default_catalog()
OWN_PPK = Institution("ppk.3374", "ppk", "PPK Kota Semarang")
OTHER_PPK = Institution("ppk.3201", "ppk", "PPK Kabupaten Bogor")
OWN_INSPECTORATE = Institution("inspektorat.3374", "regional_inspectorate", "Kota Semarang")
OTHER_INSPECTORATE = Institution("inspektorat.3201", "regional_inspectorate", "Kab. Bogor")


def examination(case_id: str, source: str) -> dict[str, Any]:
    return {
        "envelope": envelope(case_id, source, "ExaminationHeld"),
        "examination_team": {
            "includes_direct_superior": True,
            "includes_inspectorate": True,
            "includes_personnel_unit": True,
            "inspectorate": source if source.startswith("inspektorat.") else None,
            "member_refs": [],
        },
        "held_on": date(2024, 11, 20),
        "minutes_reference": "BAP/001",
        "subject_attended": True,
    }


def remedy(case_id: str, source: str, event_type: str, body: str) -> dict[str, Any]:
    return {
        "envelope": envelope(case_id, source, event_type),
        "filed_with": body,
        "filed_on": date(2024, 11, 25),
        "contested_decree_number": "800/001/2024",
        "appellant_nip": "198501012010011001",
        "grounds": "The facts were misread.",
    }


def allowed(sender: Institution, event_type: str, record: dict[str, Any], case: Any) -> bool:
    return authorize(CATALOG, sender, event_type, record, case, "bkn") is None


def test_only_the_inspectorate_of_the_case_s_region_takes_part_in_its_examination() -> None:
    case, case_id = recommended_case()
    outside = examination(case_id, OTHER_INSPECTORATE.id)

    refused = authorize(CATALOG, OTHER_INSPECTORATE, "ExaminationHeld", outside, case, "bkn")

    assert refused is not None
    assert refused.reason is Reason.UNAUTHORIZED
    assert "inspektorat.3374" in refused.detail
    assert allowed(
        OWN_INSPECTORATE, "ExaminationHeld", examination(case_id, "inspektorat.3374"), case
    )


def test_an_inspectorate_s_event_of_a_case_the_hub_does_not_hold_is_left_to_the_lifecycle() -> None:
    # No case, no region: the scope check has nothing to compare, and must not fail on it.
    unknown = examination("0b9e5d3c-6f1a-4c47-9a8e-2d7c1f4b5a61", OWN_INSPECTORATE.id)

    assert allowed(OWN_INSPECTORATE, "ExaminationHeld", unknown, None)
    refused = check_transition(None, "ExaminationHeld", unknown)
    assert refused is not None
    assert refused.reason is Reason.ILLEGAL_TRANSITION


def test_an_inspectorate_files_findings_of_its_own_region_only() -> None:
    elsewhere = report(OTHER_INSPECTORATE.id)  # region 3374

    refused = authorize(CATALOG, OTHER_INSPECTORATE, "ReportReceived", elsewhere, None, "bkn")

    assert refused is not None
    assert refused.reason is Reason.UNAUTHORIZED
    assert "region" in refused.detail
    assert allowed(OWN_INSPECTORATE, "ReportReceived", report(OWN_INSPECTORATE.id), None)


def test_a_case_in_a_district_or_village_is_its_city_s_inspectorate_s() -> None:
    # Before, inspektorat.3374 was refused for a district of Semarang and sent to an
    # inspektorat.337401 that no region has.
    province = Institution("inspektorat.33", "regional_inspectorate", "Provinsi Jawa Tengah")
    for region in ("337401", "3374011001"):
        finding = report(OWN_INSPECTORATE.id)
        finding["region_code"] = region

        assert allowed(OWN_INSPECTORATE, "ReportReceived", finding, None)
        refused = authorize(CATALOG, province, "ReportReceived", finding, None, "bkn")
        assert refused is not None
        assert refused.detail.endswith("pass the matter to inspektorat.3374")
    at_province_level = report(province.id)
    at_province_level["region_code"] = "33"
    assert allowed(province, "ReportReceived", at_province_level, None)


def test_the_city_s_inspectorate_is_party_to_a_case_in_one_of_its_districts() -> None:
    parties = parties_of_report(load_authority_map(), {**report(), "region_code": "337401"})
    roles = frozenset({"regional_inspectorate"})

    assert is_party(OWN_INSPECTORATE, roles, parties)
    assert not is_party(OTHER_INSPECTORATE, roles, parties)


def test_only_the_employing_ppk_files_an_objection_or_appeal_for_its_civil_servant() -> None:
    case, case_id = recommended_case()
    case = advance(case, "SanctionImposed", sanction(case_id))
    for event_type, body in (("ObjectionFiled", "PPK_SUPERIOR"), ("AppealFiled", "BPASN")):
        foreign = remedy(case_id, OTHER_PPK.id, event_type, body)

        refused = authorize(CATALOG, OTHER_PPK, event_type, foreign, case, "bkn")

        assert refused is not None, event_type
        assert refused.reason is Reason.UNAUTHORIZED
        assert allowed(OWN_PPK, event_type, remedy(case_id, OWN_PPK.id, event_type, body), case)


def test_a_sanction_on_another_agency_s_case_says_to_check_the_case_reference() -> None:
    case, case_id = recommended_case()

    refused = authorize(CATALOG, OTHER_PPK, "SanctionImposed", sanction(case_id), case, "bkn")

    assert refused is not None
    assert refused.reason is Reason.UNAUTHORIZED
    assert "ppk.3201 is not the employing agency" in refused.detail
    assert "check the case reference" in refused.detail


def test_a_report_of_a_region_no_province_has_is_left_to_the_report_check() -> None:
    # No inspectorate is in charge of region "99": sending the sender to "inspektorat.99"
    # would mislead it, and what stands in a bad region code may be personal data.
    for region in ("99", "0812 3456 7890"):
        nowhere = report(OTHER_INSPECTORATE.id) | {"region_code": region}

        assert allowed(OTHER_INSPECTORATE, "ReportReceived", nowhere, None), region
        refused = check_report({}, nowhere, {})
        assert refused is not None
        assert refused.reason is Reason.UNKNOWN_REGION
        assert region not in refused.detail
