"""The lifecycle rules, sanction fit and the dated authority map, without a broker."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from streams.domain.authority import (
    AuthorityMap,
    AuthorityMapError,
    AuthorityPeriod,
    load_authority_map,
)
from streams.domain.authorization import roles_for_case
from streams.domain.institutions import Institution
from streams.domain.lifecycle import (
    REQUIRED_PHASE,
    CaseLifecycle,
    Phase,
    advance,
    check_transition,
    start,
)
from streams.domain.phases import NEXT, is_past, reachable
from streams.domain.reasons import Reason
from streams.domain.replayability import is_permanent
from streams.domain.sanctions import sanction_misfit
from tests.hubtools import (
    envelope,
    recommendation,
    referral,
    registration,
    report,
    sanction,
    verification,
)


def opened() -> tuple[CaseLifecycle, str]:
    first = report()
    case_id: str = first["envelope"]["case_id"]
    return start(first, "bkn"), case_id


def walk(state: CaseLifecycle, *steps: tuple[str, dict[str, Any]]) -> CaseLifecycle:
    for event_type, record in steps:
        assert check_transition(state, event_type, record) is None, event_type
        state = advance(state, event_type, record)
    return state


def referred() -> tuple[CaseLifecycle, str]:
    state, case_id = opened()
    state = walk(
        state,
        ("ReportRegistered", registration(case_id)),
        ("VerificationCompleted", verification(case_id)),
        ("ReferralForwarded", referral(case_id)),
    )
    return state, case_id


def test_a_proven_case_walks_to_sanctioned() -> None:
    state, case_id = referred()

    state = walk(
        state,
        ("RecommendationIssued", recommendation(case_id)),
        ("SanctionImposed", sanction(case_id)),
    )

    assert state.phase is Phase.SANCTIONED


def test_no_sanction_before_a_recommendation() -> None:
    state, case_id = referred()

    rejection = check_transition(state, "SanctionImposed", sanction(case_id))

    assert rejection is not None
    assert rejection.reason is Reason.ILLEGAL_TRANSITION
    # Replayable: once the recommendation arrives, the same bytes pass.
    assert not is_permanent(rejection.reason.value)


def sanctioned() -> tuple[CaseLifecycle, dict[str, Any]]:
    state, case_id = referred()
    decree = sanction(case_id)
    state = walk(
        state, ("RecommendationIssued", recommendation(case_id)), ("SanctionImposed", decree)
    )
    return state, decree


def test_a_second_sanction_says_the_recommendation_was_followed_up() -> None:
    state, decree = sanctioned()
    other = sanction(decree["envelope"]["case_id"])

    rejection = check_transition(state, "SanctionImposed", other)

    assert rejection is not None
    # Its own reason, not illegal_transition: no replay can ever make it pass.
    assert rejection.reason is Reason.ALREADY_SANCTIONED
    assert is_permanent(rejection.reason.value)
    assert "a sanction was already imposed on this case" in rejection.detail
    assert "AppealDecided" in rejection.detail


def test_a_decree_sent_again_is_a_duplicate_of_the_one_the_hub_holds() -> None:
    state, decree = sanctioned()
    again = sanction(decree["envelope"]["case_id"]) | {"decree_number": decree["decree_number"]}

    rejection = check_transition(state, "SanctionImposed", again)

    assert rejection is not None
    # Held already, like an event sent again: nothing to do, nothing to replay.
    assert rejection.reason is Reason.DUPLICATE
    assert "the decree the hub already holds for this case" in rejection.detail
    assert "nothing more is needed" in rejection.detail
    assert "another decree_number" not in rejection.detail


def test_another_decree_is_told_the_hub_holds_a_different_one_without_quoting_it() -> None:
    state, decree = sanctioned()
    other = sanction(decree["envelope"]["case_id"])

    rejection = check_transition(state, "SanctionImposed", other)

    assert rejection is not None
    assert rejection.reason is Reason.ALREADY_SANCTIONED
    assert "the hub holds another decree_number for this case" in rejection.detail
    assert "nothing more is needed" not in rejection.detail
    # Numbers are compared, never quoted: the sender holds its own.
    assert decree["decree_number"] not in rejection.detail
    assert other["decree_number"] not in rejection.detail


def test_a_second_sanction_on_a_case_whose_decree_was_not_kept_says_a_copy_needs_nothing() -> None:
    state, decree = sanctioned()
    state.sanction = None  # accepted before the hub kept the decree

    rejection = check_transition(state, "SanctionImposed", sanction(decree["envelope"]["case_id"]))

    assert rejection is not None
    assert rejection.reason is Reason.ALREADY_SANCTIONED
    assert "before it kept decree numbers: if this is that decree" in rejection.detail


def test_first_event_must_be_a_report() -> None:
    rejection = check_transition(None, "ReportRegistered", registration("c"))

    assert rejection is not None
    assert "a case starts with its reporting institution's ReportReceived" in rejection.detail


def test_a_sanction_for_a_case_the_hub_lacks_says_to_check_the_case_reference() -> None:
    # A PPK never sends a report: a decree naming no known case has a wrong case reference.
    rejection = check_transition(None, "SanctionImposed", sanction("c"))

    assert rejection is not None
    assert rejection.reason is Reason.ILLEGAL_TRANSITION
    assert "send ReportReceived" not in rejection.detail
    assert "check the case reference" in rejection.detail


def test_not_proven_verification_cannot_be_referred() -> None:
    state, case_id = opened()
    state = walk(
        state,
        ("ReportRegistered", registration(case_id)),
        ("VerificationCompleted", verification(case_id, proven=False)),
    )

    assert state.phase is Phase.NOT_PROVEN
    rejection = check_transition(state, "ReferralForwarded", referral(case_id))
    assert rejection is not None
    # Not proven is a branch that never leads to proven: no replay mends it.
    assert rejection.reason is Reason.CASE_PAST_STEP


def test_lifecycle_survives_its_table_value() -> None:
    state, _ = referred()
    state.open_clarifications.append("c1")

    assert CaseLifecycle.from_json(state.to_json()) == state


def test_a_lifecycle_value_of_an_earlier_version_is_read_without_its_positions() -> None:
    state, _ = referred()
    # Each event's inbound position now lives in the accepted-event index.
    old = state.to_json() | {"accepted": {"e1": "kawal.inbound.bkn:0:7"}}

    assert CaseLifecycle.from_json(old) == state
    assert "accepted" not in state.to_json()


@pytest.mark.parametrize(
    ("violation", "level", "kind", "recommended", "fits"),
    [
        ("DISCIPLINE_PARTISAN_SUPPORT", "MEDIUM", "ALLOWANCE_CUT_25_6_MONTHS", "MEDIUM", True),
        ("DISCIPLINE_PARTISAN_SUPPORT", "HEAVY", "DEMOTION_12_MONTHS", "MEDIUM", True),
        ("DISCIPLINE_PARTISAN_SUPPORT", "LIGHT", "WRITTEN_REPRIMAND", None, False),
        ("DISCIPLINE_PARTISAN_SUPPORT", "HEAVY", "ALLOWANCE_CUT_25_6_MONTHS", None, False),
        ("ETHICS_BANNER", "ETHICS_MORAL", "MORAL_OPEN_STATEMENT", None, True),
        ("ETHICS_BANNER", "MEDIUM", "ALLOWANCE_CUT_25_6_MONTHS", None, False),
        ("DISCIPLINE_PARTISAN_SUPPORT", "MEDIUM", "ALLOWANCE_CUT_25_9_MONTHS", "HEAVY", False),
    ],
)
def test_sanction_fit(
    violation: str, level: str, kind: str, recommended: str | None, fits: bool
) -> None:
    assert (sanction_misfit(violation, level, kind, recommended) is None) is fits


@pytest.mark.parametrize(
    ("kind", "recommended_kind", "fits"),
    [
        ("ALLOWANCE_CUT_25_6_MONTHS", "ALLOWANCE_CUT_25_12_MONTHS", False),
        ("ALLOWANCE_CUT_25_9_MONTHS", "ALLOWANCE_CUT_25_12_MONTHS", False),
        ("ALLOWANCE_CUT_25_12_MONTHS", "ALLOWANCE_CUT_25_12_MONTHS", True),
        ("ALLOWANCE_CUT_25_12_MONTHS", "ALLOWANCE_CUT_25_6_MONTHS", True),
        ("ALLOWANCE_CUT_25_6_MONTHS", None, True),  # the kind left to the PPK
    ],
)
def test_a_sanction_of_the_recommended_level_is_no_lighter_kind(
    kind: str, recommended_kind: str | None, fits: bool
) -> None:
    # PP 94/2021 Art. 8 orders each level's sanctions: a 6-month cut is lighter than 12.
    misfit = sanction_misfit(
        "DISCIPLINE_PARTISAN_SUPPORT", "MEDIUM", kind, "MEDIUM", recommended_kind
    )

    assert (misfit is None) is fits
    if misfit is not None:
        assert f"impose {recommended_kind} or a heavier one" in misfit


@pytest.mark.parametrize(
    ("violation", "level", "kind", "recommended", "what_to_do"),
    [
        (
            "DISCIPLINE_PARTISAN_SUPPORT",
            "MEDIUM",
            "ALLOWANCE_CUT_25_9_MONTHS",
            "HEAVY",
            "impose a HEAVY sanction or a heavier one",
        ),
        (
            "DISCIPLINE_PARTISAN_SUPPORT",
            "LIGHT",
            "WRITTEN_REPRIMAND",
            "MEDIUM",
            "give a MEDIUM or HEAVY sanction",
        ),
        (
            "ETHICS_BANNER",
            "MEDIUM",
            "ALLOWANCE_CUT_25_6_MONTHS",
            None,
            "give level ETHICS_MORAL and a moral statement",
        ),
    ],
)
def test_an_unfit_sanction_says_which_sanction_would_fit(
    violation: str, level: str, kind: str, recommended: str | None, what_to_do: str
) -> None:
    misfit = sanction_misfit(violation, level, kind, recommended)

    assert misfit is not None
    assert what_to_do in misfit


def test_bundled_authority_map_moves_from_kasn_to_bkn() -> None:
    authorities = load_authority_map()

    assert authorities.authority_on(datetime(2023, 12, 4, tzinfo=UTC)) == "kasn"
    assert authorities.authority_on(date(2025, 1, 2)) == "bkn"


def test_authority_map_refuses_dates_before_its_first_period() -> None:
    authorities = AuthorityMap([AuthorityPeriod(date(2014, 1, 15), "kasn", "Law 5/2014")])

    with pytest.raises(AuthorityMapError, match="earlier than every period"):
        authorities.authority_on(date(2000, 1, 1))


def test_authority_role_comes_from_the_map_not_the_registry() -> None:
    kasn = Institution("kasn", "recommending_authority", "KASN")
    bkn = Institution("bkn", "personnel_agency", "BKN")

    assert "recommending_authority" not in roles_for_case(kasn, "bkn")
    assert roles_for_case(bkn, "bkn") == {"personnel_agency", "recommending_authority"}


def rejected_report() -> tuple[CaseLifecycle, str]:
    state, case_id = opened()
    rejection = {
        "envelope": envelope(case_id, "bawaslu.33", "ReportRejected"),
        "reason": "FILED_TOO_LATE",
        "explanation": "Reported more than 7 days after it became known.",
        "rejected_on": date(2024, 11, 4),
        "passed_to": None,
    }
    return walk(state, ("ReportRejected", rejection)), case_id


def recommended() -> tuple[CaseLifecycle, str]:
    state, case_id = referred()
    return walk(state, ("RecommendationIssued", recommendation(case_id))), case_id


def sanctioned_case() -> tuple[CaseLifecycle, str]:
    state, decree = sanctioned()
    return state, decree["envelope"]["case_id"]


def bare(case_id: str, source: str, event_type: str) -> dict[str, Any]:
    """An event whose body the phase rule does not read."""
    return {"envelope": envelope(case_id, source, event_type)}


@pytest.mark.parametrize("case", [recommended, sanctioned_case], ids=["recommended", "sanctioned"])
def test_a_recommendation_for_a_case_already_recommended_is_refused_for_good(
    case: Any,
) -> None:
    # The demo's race: BKN's staff recommended on a referral the history had recommended.
    state, case_id = case()

    rejection = check_transition(state, "RecommendationIssued", recommendation(case_id))

    assert rejection is not None
    assert rejection.reason is Reason.CASE_PAST_STEP
    assert is_permanent(rejection.reason.value)
    assert f"the case is {state.phase.value}, past referred" in rejection.detail
    assert "Sent again, it is refused again" in rejection.detail


def test_a_second_report_of_a_reported_case_is_refused_for_good() -> None:
    state, case_id = referred()
    again = report() | {"envelope": envelope(case_id, "bawaslu.33", "ReportReceived")}

    rejection = check_transition(state, "ReportReceived", again)

    assert rejection is not None
    assert rejection.reason is Reason.CASE_PAST_STEP
    assert "the case was already reported" in rejection.detail


@pytest.mark.parametrize(
    ("case", "event_type", "source"),
    [
        (rejected_report, "ReportRegistered", "bawaslu.33"),
        (rejected_report, "VerificationCompleted", "bawaslu.33"),
        (rejected_report, "RecommendationIssued", "bkn"),
        (sanctioned_case, "ClarificationRequested", "bkn"),
        (sanctioned_case, "ExaminationHeld", "ppk.3374"),
        (recommended, "ReferralForwarded", "bawaslu.33"),
    ],
)
def test_a_step_the_case_moved_past_or_away_from_is_refused_for_good(
    case: Any, event_type: str, source: str
) -> None:
    state, case_id = case()

    rejection = check_transition(state, event_type, bare(case_id, source, event_type))

    assert rejection is not None
    assert rejection.reason is Reason.CASE_PAST_STEP, rejection.detail
    assert is_permanent(rejection.reason.value)


@pytest.mark.parametrize(
    ("case", "event_type", "source"),
    [
        (opened, "VerificationCompleted", "bawaslu.33"),
        (opened, "RecommendationIssued", "bkn"),
        (referred, "ExaminationHeld", "ppk.3374"),
        (referred, "ObjectionFiled", "ppk.3374"),
        (recommended, "AppealFiled", "ppk.3374"),
    ],
)
def test_an_event_before_its_step_stays_replayable(case: Any, event_type: str, source: str) -> None:
    state, case_id = case()

    rejection = check_transition(state, event_type, bare(case_id, source, event_type))

    assert rejection is not None
    assert rejection.reason is Reason.ILLEGAL_TRANSITION, rejection.detail
    assert "not allowed now" in rejection.detail
    assert not is_permanent(rejection.reason.value)


def test_events_that_may_come_out_of_order_in_any_phase_stay_replayable() -> None:
    # Each waits for another event (its request, its block, its filing), which can still come.
    state, case_id = sanctioned_case()
    early = {
        "ClarificationReceived": bare(case_id, "ppk.3374", "ClarificationReceived")
        | {"clarification_id": "not-yet-requested"},
        "PersonnelDataUnblocked": bare(case_id, "bkn", "PersonnelDataUnblocked"),
        "AppealDecided": bare(case_id, "bpasn", "AppealDecided"),
    }

    refused = {name: check_transition(state, name, record) for name, record in early.items()}

    assert {name: r and r.reason for name, r in refused.items()} == dict.fromkeys(
        early, Reason.ILLEGAL_TRANSITION
    )


def every_branch(case_id: str) -> list[list[tuple[str, dict[str, Any]]]]:
    """The event paths of every branch of the lifecycle, closing apart."""
    rejected = bare(case_id, "bawaslu.33", "ReportRejected")
    not_recommended = recommendation(case_id) | {
        "proven": False,
        "sanction_level": None,
        "sanction_kind": None,
    }
    registered = ("ReportRegistered", registration(case_id))
    proven = ("VerificationCompleted", verification(case_id))
    forwarded = ("ReferralForwarded", referral(case_id))
    return [
        [("ReportRejected", rejected)],
        [registered, ("VerificationCompleted", verification(case_id, proven=False))],
        [registered, proven, forwarded, ("RecommendationIssued", not_recommended)],
        [
            registered,
            proven,
            forwarded,
            ("RecommendationIssued", recommendation(case_id)),
            ("SanctionImposed", sanction(case_id)),
        ],
    ]


def test_the_phase_order_is_the_one_events_move_a_case_along() -> None:
    # phases.NEXT, which decides what a case is past, must be the lifecycle's own moves.
    first = report()
    taken: set[tuple[Phase, Phase]] = set()

    for steps in every_branch(first["envelope"]["case_id"]):
        state = start(first, "bkn")
        for event_type, record in steps:
            before = state.phase
            state = advance(state, event_type, record)
            assert state.phase in NEXT[before], (before, event_type)
            taken.add((before, state.phase))

    assert taken == {(before, after) for before, nexts in NEXT.items() for after in nexts}


def test_every_phase_an_event_needs_is_reachable_from_the_report() -> None:
    needed = {phase for phases in REQUIRED_PHASE.values() for phase in phases}

    assert needed <= reachable(Phase.REPORTED)
    assert not is_past(Phase.REPORTED, needed)
    assert is_past(Phase.CLOSED, needed)
