"""Who sees which case rows: everyone where cases are public, else operators and parties."""

from __future__ import annotations

from streams.domain.institutions import load_institutions
from streams.domain.lifecycle import start
from streams.domain.parties import parties_of_case
from streams.domain.principals import Principal, PrincipalRole
from streams.web.case_audience import (
    EVERY_CASE,
    NO_CASE,
    audience,
    cases_for,
    refusal_without_credential,
)
from streams.web.render import CaseRow
from tests.hubtools import report

OPERATOR = Principal("ops.ana", PrincipalRole.OPERATOR, "tok_1")
PPK = Principal("ppk.3374", PrincipalRole.INSTITUTION, "tok_2")
INSTITUTIONS = {institution.id: institution for institution in load_institutions()}


def test_without_a_credential_cases_are_shown_only_where_they_are_public() -> None:
    assert audience(None, public_cases=False) == NO_CASE
    assert audience(None, public_cases=True) == EVERY_CASE
    refused = refusal_without_credential(None, public_cases=False)
    assert refused is not None
    assert refused.problem == "authentication_required"
    assert refusal_without_credential(None, public_cases=True) is None


def test_an_operator_sees_every_case_and_an_institution_its_own() -> None:
    assert audience(OPERATOR, public_cases=False) == EVERY_CASE
    assert audience(PPK, public_cases=False) == "ppk.3374"
    assert refusal_without_credential(PPK, public_cases=False) is None


def test_an_institution_is_listed_the_cases_it_is_party_to() -> None:
    case = start(report("bawaslu.33"), "bkn")  # employing agency ppk.3374 (tests.hubtools)
    rows = [CaseRow("a", case.phase.value), CaseRow("elsewhere", "")]
    parties = {"a": parties_of_case(case)}

    assert [row.case_id for row in cases_for(rows, "ppk.3374", parties, INSTITUTIONS)] == ["a"]
    assert cases_for(rows, "ppk.3301", parties, INSTITUTIONS) == []
    assert cases_for(rows, "bkn", parties, INSTITUTIONS) == rows[:1]
    assert cases_for(rows, EVERY_CASE, parties, INSTITUTIONS) == rows
    assert cases_for(rows, "no.such.institution", parties, INSTITUTIONS) == []
