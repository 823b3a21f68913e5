"""The case lifecycle as a state machine: which event may follow which (DOMAIN.md).

Pure functions over a JSON-friendly :class:`CaseLifecycle`; the ingress agent keeps one per
case in a Faust table, checks each event with :func:`check_transition` and records it with
:func:`advance`. Rules follow the lifecycle table of DOMAIN.md: registration after a report,
verification after registration, referral of proven findings, a recommendation after the
referral, a sanction only after a proven recommendation and fitting it, an objection or
appeal only after a sanction, and nothing after closing but the lifting of a block the case
still holds: SIASN lifts a block when the case closes, and BKN's report of a lifting on the
sanction may reach the hub after the closing, so the trail records that the block ended;
and the breach of a clock the closing stopped after its due date (``update_clocks``).
An event refused for a step the case has not reached yet is ``illegal_transition`` (a replay
once the missing event arrived passes); one refused for a step the case can never be at again
is ``case_past_step`` (:mod:`streams.domain.phases`, which holds the phases and their order).

One event is outside the phases: the hub's ``PersonalDataErased`` (:mod:`streams.domain.erasure`)
may come in any phase of a known case, closed ones included (erasing after closing is what
retention does), and only once: a case whose data key was destroyed cannot be erased again,
and a second erasure is refused (``already_erased``) rather than taken silently, so the trail
holds one erasure per case and a second request is visible in the dead letters. The lifecycle
records when the case closed and when it was erased, for the retention rules
(:mod:`streams.domain.retention`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from streams.domain.erasure import ERASURE_EVENT
from streams.domain.phases import Phase as Phase  # re-exported: the lifecycle's own word
from streams.domain.phases import is_past, phase_refusal
from streams.domain.reasons import (
    Reason,
    Rejection,
    illegal_transition,
    invalid_content,
    past_step,
)
from streams.domain.remedies import decision_misfit, filing_misfit
from streams.domain.sanctions import unfit_recommendation, unfit_sanction
from streams.domain.standing_sanction import (
    closing_misfit,
    contested_misfit,
    second_decree,
    standing_after,
)

#: Phases from which the recommending authority may close a case on its outcome.
CLOSABLE = frozenset({Phase.REJECTED, Phase.NOT_PROVEN, Phase.NOT_RECOMMENDED, Phase.SANCTIONED})
#: Closing reasons that end a case in any phase: it cannot go on (kawal.ClosingReason).
CLOSING_AT_ANY_PHASE = frozenset({"SUBJECT_LEFT_SERVICE", "MERGED_INTO_ANOTHER_CASE"})

#: Phase an event must find the case in (events not listed have their own rule).
REQUIRED_PHASE: dict[str, frozenset[Phase]] = {
    "ReportRegistered": frozenset({Phase.REPORTED}),
    "ReportRejected": frozenset({Phase.REPORTED}),
    "VerificationCompleted": frozenset({Phase.REGISTERED}),
    "ReferralForwarded": frozenset({Phase.PROVEN}),
    "ClarificationRequested": frozenset({Phase.REFERRED, Phase.RECOMMENDED}),
    "RecommendationIssued": frozenset({Phase.REFERRED}),
    "ExaminationHeld": frozenset({Phase.RECOMMENDED}),
    "SanctionImposed": frozenset({Phase.RECOMMENDED}),
    "ObjectionFiled": frozenset({Phase.SANCTIONED}),
    "AppealFiled": frozenset({Phase.SANCTIONED}),
}


@dataclass
class CaseLifecycle:
    """What the hub knows of a case's progress (no personal data)."""

    phase: Phase
    reported_at: str
    authority: str
    reporter: str
    employing_agency: str
    region_code: str
    violation: str
    #: The Bawaslu office answering for registration and verification (parties.supervisor_of);
    #: None in a lifecycle kept before the hub chose one, until its next event.
    supervisor: str | None = None
    recommended_level: str | None = None
    #: The kind recommended with it (None: left to the PPK, or recommended before it was kept).
    recommended_kind: str | None = None
    #: The decree the PPK reported and the sanction standing after any remedy
    #: (:mod:`streams.domain.standing_sanction`); None before it, or if reported before it was kept.
    sanction: dict[str, Any] | None = None
    open_clarifications: list[str] = field(default_factory=list)
    appeal_pending: bool = False
    #: event_id of the pending ObjectionFiled or AppealFiled, and the body it was filed with
    #: (None when none is pending, or for one accepted before these were kept).
    pending_remedy: str | None = None
    pending_remedy_body: str | None = None
    follow_up_breached: bool = False
    #: Whether any DeadlineBreached of the case was accepted: the ministries are party from then on.
    deadline_breached: bool = False
    blocked: bool = False
    #: Deadline clocks not stopped yet, breached ones included, and those stopped after their
    #: due date until their breach is recorded (see streams.domain.deadlines).
    clocks: list[dict[str, Any]] = field(default_factory=list)
    #: When the case was closed (the CaseClosed's event time, ISO 8601); None while open.
    #: Cases closed before this was recorded have None too: only a "reported" rule finds them.
    closed_at: str | None = None
    #: The phase the case was in when it was closed (its value), so that a closed case still
    #: says whether its recommendation was followed up; None while open, and for cases closed
    #: before this was recorded.
    closed_from: str | None = None
    #: When its data key was destroyed (the PersonalDataErased's erased_at, ISO 8601).
    erased_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Table value (shares its lists and dicts with this lifecycle: :meth:`copy` first)."""
        return {name: getattr(self, name) for name in _FIELDS} | {"phase": self.phase.value}

    def copy(self) -> CaseLifecycle:
        """A copy whose lists and dicts can change without changing this one."""
        return replace(
            self,
            open_clarifications=list(self.open_clarifications),
            clocks=list(self.clocks),
        )

    @classmethod
    def from_json(cls, value: dict[str, Any] | None) -> CaseLifecycle | None:
        """From a table value; None for a case the hub has not seen.

        A value written before a field existed takes the field's default; one written with a
        field no longer kept (``accepted``, each event's inbound position, now in the
        accepted-event index of :mod:`streams.hub.case_table`) has it ignored.
        """
        if not value:
            return None
        known = {name: item for name, item in value.items() if name in _FIELDS}
        return cls(**{**known, "phase": Phase(value["phase"])})


_FIELDS = tuple(item.name for item in fields(CaseLifecycle))


#: Why an event other than a report cannot open a case. Its sender may be the reporter, who
#: sends the report first, or a later party (a PPK's decree), whose case reference is wrong.
_UNKNOWN_CASE = (
    "the hub holds no case with this case_id; a case starts with its reporting institution's "
    "ReportReceived. If the case was reported, check the case reference its case_id derives "
    "from: the reporting institution and its case number, exactly as the report and the "
    "recommendation letter give them"
)


def check_transition(
    state: CaseLifecycle | None, event_type: str, record: dict[str, Any]
) -> Rejection | None:
    """Why ``event_type`` may not happen to the case now, or None if it may."""
    if event_type == ERASURE_EVENT:
        return _erasure_rule(state)
    if state is None:
        if event_type == "ReportReceived":
            return None
        return illegal_transition(event_type, _UNKNOWN_CASE)
    if state.phase is Phase.CLOSED:
        return _closed_rule(state, event_type, record)
    if event_type == "ReportReceived":
        # A case is reported once: its report is a step every known case is past.
        return past_step(event_type, "the case was already reported; send the next step instead")
    if event_type == "SanctionImposed" and state.phase is Phase.SANCTIONED:
        return second_decree(state.sanction, record)
    required = REQUIRED_PHASE.get(event_type)
    if required is not None and state.phase not in required:
        return phase_refusal(event_type, state.phase, required)
    return _special_rules(state, event_type, record)


def _erasure_rule(state: CaseLifecycle | None) -> Rejection | None:
    if state is None:
        return illegal_transition(
            ERASURE_EVENT, "the hub has no report for this case; only a known case is erased"
        )
    if state.erased_at is not None:
        return Rejection(
            Reason.ALREADY_ERASED,
            f"the personal data of this case was erased at {state.erased_at}; a case is "
            "erased once",
        )
    return None


#: What the sender of an event to a closed case does, said after the refusal.
CLOSED_ADVICE = (
    ": a closed case stays closed. If its trail already holds what this event says (a decree "
    "sent again), nothing needs doing; to correct what it holds, ask the recommending "
    "authority that closed the case, and keep the correction in your own records"
)


def _closed_rule(state: CaseLifecycle, event_type: str, record: dict[str, Any]) -> Rejection | None:
    """A closed case takes only the lifting of a block it holds, while its data is not erased.

    And the breach of a clock its closing met late (it carries no personal data).
    """
    closed = f"the case is closed; {event_type} cannot follow"
    if event_type == "DeadlineBreached" and _met_late(state, record):
        return None
    if event_type != "PersonnelDataUnblocked":
        return Rejection(Reason.CASE_CLOSED, closed + CLOSED_ADVICE)
    if state.erased_at is not None:
        return Rejection(
            Reason.CASE_CLOSED,
            f"{closed}: its personal data was erased at {state.erased_at}, so no event "
            "carrying it is recorded",
        )
    if not state.blocked:
        return Rejection(
            Reason.CASE_CLOSED,
            f"{closed}: a closed case records only the lifting of a block it holds, and the "
            "personnel data of this case is not blocked",
        )
    return None


def _met_late(state: CaseLifecycle, breach: dict[str, Any]) -> bool:
    """Whether ``breach`` reports a clock of ``state`` met late (streams.domain.deadlines)."""
    reported = (breach["rule_id"], breach["caused_by_event_id"])
    return any(
        c.get("met_at") is not None and (c["rule_id"], c["caused_by"]) == reported
        for c in state.clocks
    )


def _special_rules(
    state: CaseLifecycle, event_type: str, record: dict[str, Any]
) -> Rejection | None:
    if event_type == "ClarificationReceived" and (
        record["clarification_id"] not in state.open_clarifications
    ):
        return illegal_transition(
            event_type, "no open ClarificationRequested has this clarification_id"
        )
    if event_type == "PersonnelDataBlocked":
        return _block_rule(state)
    if event_type == "PersonnelDataUnblocked" and not state.blocked:
        return illegal_transition(event_type, _NOT_BLOCKED)
    if event_type in ("ObjectionFiled", "AppealFiled") and state.appeal_pending:
        return illegal_transition(event_type, "an objection or appeal is already pending")
    if event_type == "AppealDecided" and not state.appeal_pending:
        return illegal_transition(event_type, "no objection or appeal is pending")
    if event_type in ("ObjectionFiled", "AppealFiled"):
        return filing_misfit(event_type, record) or contested_misfit(
            state.sanction, event_type, record
        )
    if event_type == "AppealDecided":
        return decision_misfit(
            state.pending_remedy, state.pending_remedy_body, state.violation, record
        )
    if event_type == "CaseClosed" and state.appeal_pending:
        return illegal_transition(event_type, "an objection or appeal is pending; decide it first")
    if event_type == "CaseClosed":
        return _closing_rule(state, record) or closing_misfit(state.sanction, record)
    if event_type == "SanctionImposed":
        recommended = (state.recommended_level, state.recommended_kind)
        return unfit_sanction(state.violation, record, recommended)
    if event_type == "RecommendationIssued":
        return unfit_recommendation(record)
    return None


def _closing_rule(state: CaseLifecycle, record: dict[str, Any]) -> Rejection | None:
    """A case closes on its outcome, or earlier when its subject left service or it merged."""
    reason = record["closing_reason"]
    if reason == "MERGED_INTO_ANOTHER_CASE" and record["merged_into_case_id"] is None:
        return invalid_content(
            "CaseClosed",
            "a case closed as MERGED_INTO_ANOTHER_CASE names the case that now holds the facts "
            "in merged_into_case_id",
        )
    if reason in CLOSING_AT_ANY_PHASE or state.phase in CLOSABLE:
        return None
    wanted = " or ".join(sorted(phase.value for phase in CLOSABLE))
    return illegal_transition(
        "CaseClosed",
        f"the case is {state.phase.value}, not {wanted}; before its outcome a case closes only "
        f"as {' or '.join(sorted(CLOSING_AT_ANY_PHASE))}",
    )


def _block_rule(state: CaseLifecycle) -> Rejection | None:
    """BKN blocks while the PPK ignores the recommendation: after the breach, before it acts."""
    if is_past(state.phase, {Phase.RECOMMENDED}):
        return past_step(
            "PersonnelDataBlocked",
            f"the case is {state.phase.value}: the PPK has already acted on the "
            "recommendation, so there is no ignored recommendation to block for. " + _BLOCK_OUTRUN,
        )
    if state.blocked:
        return illegal_transition(
            "PersonnelDataBlocked", "the data is already blocked for this case"
        )
    if not state.follow_up_breached:
        return illegal_transition(
            "PersonnelDataBlocked", "data is blocked only after a follow-up DeadlineBreached"
        )
    if state.phase is not Phase.RECOMMENDED:
        return phase_refusal("PersonnelDataBlocked", state.phase, {Phase.RECOMMENDED})
    return None


#: What BKN does about a block SIASN placed on a breach after the PPK's sanction had reached
#: the hub: the siasn connector delivers the sanction after the breach, which lifts it.
_BLOCK_OUTRUN = (
    "If SIASN blocked the data on the follow-up breach, it lifts the block when it records "
    "the sanction from BKN's feed: check that SIASN shows this case's block released; the hub "
    "needs nothing more"
)
#: Why the lifting of a block the hub never recorded is refused, and what to check.
_NOT_BLOCKED = (
    "the personnel data of this case is not blocked as the hub recorded it (a block that "
    "reached the hub after the PPK's sanction is not recorded, nor is its lifting): check that "
    "SIASN shows the block released; the hub needs nothing more"
)


def start(record: dict[str, Any], authority: str) -> CaseLifecycle:
    """The lifecycle of a case opened by a ReportReceived."""
    envelope = record["envelope"]
    return CaseLifecycle(
        phase=Phase.REPORTED,
        reported_at=envelope["event_time"].isoformat(),
        authority=authority,
        reporter=envelope["source"],
        employing_agency=record["employing_agency"],
        region_code=record["region_code"],
        violation=record["violation"],
    )


def advance(state: CaseLifecycle, event_type: str, record: dict[str, Any]) -> CaseLifecycle:
    """The lifecycle after an accepted event (the caller checked the transition)."""
    phase = _next_phase(state, event_type, record)
    if event_type == "CaseClosed":
        state.closed_from = state.phase.value
    if phase is not None:
        state.phase = phase
    if event_type in ("VerificationCompleted", "ReferralForwarded", "RecommendationIssued"):
        state.violation = record["violation"]
    if event_type == "RecommendationIssued":
        state.recommended_level = record["sanction_level"]
        state.recommended_kind = record["sanction_kind"]
    state.sanction = standing_after(state.sanction, event_type, record)
    if event_type == "ClarificationRequested":
        state.open_clarifications = [*state.open_clarifications, record["clarification_id"]]
    if event_type == "ClarificationReceived":
        state.open_clarifications = [
            cid for cid in state.open_clarifications if cid != record["clarification_id"]
        ]
    if event_type == "DeadlineBreached":
        state.deadline_breached = True
        state.follow_up_breached |= record["rule_id"] == FOLLOW_UP_RULE
    if event_type == "CaseClosed":
        state.closed_at = record["envelope"]["event_time"].isoformat()
    if event_type == ERASURE_EVENT:
        state.erased_at = record["erased_at"].isoformat()
    state.blocked = {"PersonnelDataBlocked": True, "PersonnelDataUnblocked": False}.get(
        event_type, state.blocked
    )
    state.appeal_pending = {
        "ObjectionFiled": True,
        "AppealFiled": True,
        "AppealDecided": False,
    }.get(event_type, state.appeal_pending)
    if event_type in ("ObjectionFiled", "AppealFiled"):
        state.pending_remedy = str(record["envelope"]["event_id"])
        state.pending_remedy_body = record["filed_with"]
    if event_type == "AppealDecided":
        state.pending_remedy = state.pending_remedy_body = None
    return state


#: The deadline rule whose breach lets BKN block personnel data (see
#: :mod:`streams.domain.deadlines`).
FOLLOW_UP_RULE = "recommendation_follow_up"


def _next_phase(state: CaseLifecycle, event_type: str, record: dict[str, Any]) -> Phase | None:
    if event_type == "VerificationCompleted":
        return Phase.PROVEN if record["verdict"] == "PROVEN" else Phase.NOT_PROVEN
    if event_type == "RecommendationIssued":
        return Phase.RECOMMENDED if record["proven"] else Phase.NOT_RECOMMENDED
    return {
        "ReportRegistered": Phase.REGISTERED,
        "ReportRejected": Phase.REJECTED,
        "ReferralForwarded": Phase.REFERRED,
        "SanctionImposed": Phase.SANCTIONED,
        "CaseClosed": Phase.CLOSED,
    }.get(event_type)
