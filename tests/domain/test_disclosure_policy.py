"""The disclosure policy: its file refused row by row, deny by default, and the domain's rules.

The rules of DOMAIN.md that the bundled table must keep are tested one by one against the table
itself, so a change to ``streams/data/disclosure.toml`` that breaks one fails here by name.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.catalog import default_catalog
from streams.domain.disclosure_policy import (
    OPERATOR,
    PUBLIC,
    DisclosurePolicy,
    DisclosurePolicyError,
    load_disclosure_policy,
)

CATALOG = default_catalog()
EVENTS = CATALOG.event_types()
ROLES = (
    "election_supervisor",
    "recommending_authority",
    "personnel_agency",
    "ppk",
    "regional_inspectorate",
    "appeals_body",
    "civil_servant",
    "ministry",
    "hub",
)
#: Events before a sanction can be contested (DOMAIN.md lifecycle, 1 to 10).
BEFORE_APPEAL = tuple(
    event
    for event in EVENTS
    if event not in {"ObjectionFiled", "AppealFiled", "AppealDecided", "CaseClosed"}
)
SUBJECT_FIELDS = {"subject_nip", "subject_name", "appellant_nip"}

ONE_ROW = """
[[allow]]
role = "ppk"
events = ["PersonnelDataBlocked"]
fields = ["subject_nip"]
why = "The block stays until the PPK acts."
"""


@pytest.fixture(scope="module")
def policy() -> DisclosurePolicy:
    """The bundled policy."""
    return load_disclosure_policy(None, CATALOG)


def personal(event: str) -> tuple[str, ...]:
    return CATALOG.personal_data_fields(event)


def seen_by(policy: DisclosurePolicy, role: str) -> set[tuple[str, str]]:
    """Every (event, field) ``role`` may see."""
    return {
        (event, field)
        for event in EVENTS
        for field in personal(event)
        if policy.may_see(role, event, field)
    }


def load_text(tmp_path: Path, text: str) -> DisclosurePolicy:
    path = tmp_path / "disclosure.toml"
    path.write_text(text, encoding="utf-8")
    return load_disclosure_policy(path, CATALOG)


# -- the file: every refusal names what to fix -----------------------------------------------


def test_a_missing_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(DisclosurePolicyError, match=r"cannot read.*KAWAL_DISCLOSURE_FILE"):
        load_disclosure_policy(tmp_path / "absent.toml", CATALOG)


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DisclosurePolicyError, match="cannot read the disclosure policy"):
        load_text(tmp_path, "[[allow]\nrole = ppk")


def test_an_unknown_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DisclosurePolicyError, match=r"unknown table alow; .*\[\[allow\]\]"):
        load_text(tmp_path, ONE_ROW.replace("[[allow]]", "[[alow]]"))


def test_allow_written_as_a_single_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DisclosurePolicyError, match=r"allow must be an array of tables"):
        load_text(tmp_path, ONE_ROW.replace("[[allow]]", "[allow]"))


def test_a_row_without_its_reason_is_refused(tmp_path: Path) -> None:
    text = ONE_ROW.replace('why = "The block stays until the PPK acts."', "")
    with pytest.raises(DisclosurePolicyError, match=r"\[\[allow\]\] row 1: lacks why"):
        load_text(tmp_path, text)


def test_a_misspelt_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DisclosurePolicyError, match="lacks fields and has unknown keys field;"):
        load_text(tmp_path, ONE_ROW.replace("fields =", "field ="))


def test_an_empty_reason_is_refused(tmp_path: Path) -> None:
    text = ONE_ROW.replace('"The block stays until the PPK acts."', '"  "')
    with pytest.raises(DisclosurePolicyError, match="row 1: why must be a non-empty string"):
        load_text(tmp_path, text)


def test_an_empty_event_list_is_refused(tmp_path: Path) -> None:
    text = ONE_ROW.replace('["PersonnelDataBlocked"]', "[]")
    with pytest.raises(DisclosurePolicyError, match="row 1: events must be a non-empty list"):
        load_text(tmp_path, text)


def test_an_unknown_role_is_refused_naming_the_row_and_the_roles(tmp_path: Path) -> None:
    text = ONE_ROW + ONE_ROW.replace('"ppk"', '"pkk"').replace("Blocked", "Unblocked")
    with pytest.raises(DisclosurePolicyError) as refused:
        load_text(tmp_path, text)
    assert "[[allow]] row 2 (role 'pkk'): unknown role; use one of: election_supervisor" in str(
        refused.value
    )


@pytest.mark.parametrize("reader", [OPERATOR, PUBLIC])
def test_a_grant_to_the_operator_or_the_public_is_refused(tmp_path: Path, reader: str) -> None:
    with pytest.raises(DisclosurePolicyError, match="may never be granted personal data"):
        load_text(tmp_path, ONE_ROW.replace('"ppk"', f'"{reader}"'))


@pytest.mark.parametrize("role", ["ppk", "personnel_agency"])
def test_no_file_can_show_the_reporter_to_the_ppk_or_the_personnel_agency(
    tmp_path: Path, role: str
) -> None:
    row = (
        f'[[allow]]\nrole = "{role}"\nevents = ["ReportReceived"]\n'
        'fields = ["reporter_identity"]\nwhy = "a mistake"\n'
    )
    with pytest.raises(
        DisclosurePolicyError, match=f"reporter_identity may never be shown to {role}"
    ):
        load_text(tmp_path, row)


def test_an_unknown_event_type_is_refused(tmp_path: Path) -> None:
    text = ONE_ROW.replace("PersonnelDataBlocked", "PersonnelDataLocked")
    with pytest.raises(
        DisclosurePolicyError, match=r"row 1 .*unknown event type 'PersonnelDataLocked'"
    ):
        load_text(tmp_path, text)


def test_a_field_that_is_not_personal_data_of_its_event_is_refused(tmp_path: Path) -> None:
    text = ONE_ROW.replace('["subject_nip"]', '["subject_nip", "blocking_reference"]')
    with pytest.raises(DisclosurePolicyError) as refused:
        load_text(tmp_path, text)
    assert (
        "[[allow]] row 1 (role 'ppk'): 'blocking_reference' is not a personal-data field of "
        "PersonnelDataBlocked"
    ) in str(refused.value)
    assert "its personal-data fields: subject_nip" in str(refused.value)


def test_a_field_of_another_event_is_refused(tmp_path: Path) -> None:
    text = ONE_ROW.replace('["subject_nip"]', '["reporter_identity"]')
    with pytest.raises(DisclosurePolicyError, match="'reporter_identity' is not a personal-data"):
        load_text(tmp_path, text)


def test_a_grant_listed_twice_is_refused(tmp_path: Path) -> None:
    text = ONE_ROW + ONE_ROW.replace("PersonnelDataBlocked", "PersonnelDataUnblocked") + ONE_ROW
    with pytest.raises(DisclosurePolicyError) as refused:
        load_text(tmp_path, text)
    assert "row 3 (role 'ppk'): subject_nip of PersonnelDataBlocked is already granted by " in (
        str(refused.value)
    )
    assert "[[allow]] row 1" in str(refused.value)


def test_a_role_granted_fields_cannot_also_see_nothing(tmp_path: Path) -> None:
    text = ONE_ROW + '[[sees_nothing]]\nrole = "ppk"\nwhy = "x"\n'
    with pytest.raises(DisclosurePolicyError, match=r"\[\[sees_nothing\]\] row 1 \(role 'ppk'\)"):
        load_text(tmp_path, text)


def test_seeing_nothing_names_a_known_role_once(tmp_path: Path) -> None:
    unknown = '[[sees_nothing]]\nrole = "auditor"\nwhy = "x"\n'
    with pytest.raises(DisclosurePolicyError, match=r"row 1 .*'auditor'.*unknown role"):
        load_text(tmp_path, unknown)
    twice = '[[sees_nothing]]\nrole = "operator"\nwhy = "x"\n' * 2
    with pytest.raises(DisclosurePolicyError, match=r"row 2 .*named twice"):
        load_text(tmp_path, twice)


def test_an_institution_id_is_not_a_role_and_the_error_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(DisclosurePolicyError) as refused:
        load_text(tmp_path, ONE_ROW.replace('"ppk"', '"ppk.3374"'))
    assert str(refused.value).startswith(f"disclosure policy {tmp_path / 'disclosure.toml'}: ")
    assert "unknown role" in str(refused.value)


# -- deny by default -------------------------------------------------------------------------


def test_an_empty_policy_shows_nobody_anything(tmp_path: Path) -> None:
    empty = load_text(tmp_path, "")
    for event in EVENTS:
        assert empty.visible(ROLES, event, personal(event)) == ()


def test_only_what_a_row_lists_is_visible(tmp_path: Path) -> None:
    one = load_text(tmp_path, ONE_ROW)
    granted = {
        (role, event, field)
        for role in ROLES
        for event in EVENTS
        for field in personal(event)
        if one.may_see(role, event, field)
    }
    assert granted == {("ppk", "PersonnelDataBlocked", "subject_nip")}


def test_visible_keeps_the_given_order_and_drops_unknown_fields(
    policy: DisclosurePolicy,
) -> None:
    asked = ["reporter_identity", "no_such_field", "subject_name", "summary", "subject_nip"]
    assert policy.visible(["ppk"], "ReportReceived", asked) == ("subject_name", "subject_nip")
    assert policy.visible(["ppk"], "NoSuchEvent", asked) == ()
    assert policy.visible([], "ReportReceived", asked) == ()


def test_an_institution_in_two_roles_sees_what_either_may(policy: DisclosurePolicy) -> None:
    # BKN after the transfer: the personnel agency and the case's recommending authority.
    both = ["personnel_agency", "recommending_authority"]
    assert policy.visible(both, "ReportReceived", personal("ReportReceived")) == personal(
        "ReportReceived"
    )
    assert policy.visible(["personnel_agency"], "ReportReceived", personal("ReportReceived")) == ()


def test_every_bundled_row_says_why(policy: DisclosurePolicy) -> None:
    assert policy.grants
    reasons = [row.why for row in policy.grants] + [row.why for row in policy.sees_nothing]
    assert all(len(why) > 20 for why in reasons)


# -- the domain's rules, on the bundled table ------------------------------------------------


def test_the_ppk_never_sees_the_reporter(policy: DisclosurePolicy) -> None:
    for event in EVENTS:
        assert not policy.may_see("ppk", event, "reporter_identity"), event
        assert "reporter_identity" not in policy.visible(["ppk"], event, personal(event))
    # The report's own account can give the reporter away as well.
    assert not policy.may_see("ppk", "ReportReceived", "summary")


def test_the_ppk_knows_which_civil_servant_the_case_concerns(policy: DisclosurePolicy) -> None:
    assert policy.visible(["ppk"], "ReportReceived", personal("ReportReceived")) == (
        "subject_nip",
        "subject_name",
    )


def test_the_personnel_agency_sees_only_the_nip_of_its_siasn_actions(
    policy: DisclosurePolicy,
) -> None:
    assert seen_by(policy, "personnel_agency") == {
        ("PersonnelDataBlocked", "subject_nip"),
        ("PersonnelDataUnblocked", "subject_nip"),
    }
    for event in EVENTS:
        assert not policy.may_see("personnel_agency", event, "reporter_identity")


def test_the_appeals_body_sees_no_subject_before_an_appeal(policy: DisclosurePolicy) -> None:
    for event in BEFORE_APPEAL:
        assert policy.visible(["appeals_body"], event, personal(event)) == (), event
    assert seen_by(policy, "appeals_body") == {
        ("ObjectionFiled", "appellant_nip"),
        ("ObjectionFiled", "grounds"),
        ("AppealFiled", "appellant_nip"),
        ("AppealFiled", "grounds"),
        ("AppealDecided", "considerations"),
    }
    assert not {field for _, field in seen_by(policy, "appeals_body")} & {
        "subject_name",
        "reporter_identity",
    }


@pytest.mark.parametrize("reader", [OPERATOR, PUBLIC])
def test_the_operator_and_the_public_see_nothing_personal(
    policy: DisclosurePolicy, reader: str
) -> None:
    assert seen_by(policy, reader) == set()
    for event in EVENTS:
        assert policy.visible([reader], event, personal(event)) == ()
    assert reader in {row.role for row in policy.sees_nothing}


def test_the_supervisor_and_the_authority_keep_the_whole_report(
    policy: DisclosurePolicy,
) -> None:
    for role in ("election_supervisor", "recommending_authority"):
        assert policy.visible([role], "ReportReceived", personal("ReportReceived")) == personal(
            "ReportReceived"
        )
        assert policy.may_see(role, "VerificationCompleted", "findings")


def test_only_the_supervisor_and_the_authority_see_the_reporter(
    policy: DisclosurePolicy,
) -> None:
    seers = {role for role in ROLES if policy.may_see(role, "ReportReceived", "reporter_identity")}
    assert seers == {"election_supervisor", "recommending_authority"}


@pytest.mark.parametrize("role", ["regional_inspectorate", "ministry", "civil_servant", "hub"])
def test_roles_without_a_need_see_nothing(policy: DisclosurePolicy, role: str) -> None:
    assert seen_by(policy, role) == set()
    assert role in {row.role for row in policy.sees_nothing}


def test_no_role_sees_a_subject_field_it_was_not_granted(policy: DisclosurePolicy) -> None:
    # Who may know whom a case concerns, event by event: nobody else.
    seers = {
        (role, event)
        for role in ROLES
        for event in EVENTS
        for field in SUBJECT_FIELDS & set(personal(event))
        if policy.may_see(role, event, field)
    }
    assert seers == {
        ("election_supervisor", "ReportReceived"),
        ("recommending_authority", "ReportReceived"),
        ("ppk", "ReportReceived"),
        ("recommending_authority", "PersonnelDataBlocked"),
        ("recommending_authority", "PersonnelDataUnblocked"),
        ("personnel_agency", "PersonnelDataBlocked"),
        ("personnel_agency", "PersonnelDataUnblocked"),
        ("ppk", "PersonnelDataBlocked"),
        ("ppk", "PersonnelDataUnblocked"),
        ("ppk", "ObjectionFiled"),
        ("ppk", "AppealFiled"),
        ("appeals_body", "ObjectionFiled"),
        ("appeals_body", "AppealFiled"),
    }
