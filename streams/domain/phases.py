"""Where a case stands, which phases can follow which, and the rule of a refused step.

A case's phase only moves forward (DOMAIN.md's lifecycle): reported, then registered or
rejected, proven or not proven, referred, recommended or not recommended, sanctioned, and
closed. So an event refused for the case's phase is one of two kinds:

- the case has not reached a phase the event needs yet (a sanction before its
  recommendation): ``illegal_transition``, and a replay once the missing event arrived passes;
- the case can never be in a phase the event needs again, having moved past it or along
  another branch (a recommendation for a case already recommended, a verification of a
  rejected report): ``case_past_step``, refused again however often it is sent, so replay
  skips it (:mod:`streams.domain.replayability`).

The same rule holds for the two facts a case records once and never changes, which an event
may need otherwise: its report (a second ``ReportReceived`` needs a case not yet reported)
and its decree (an objection or appeal needs the case sanctioned by the decree it names).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum

from streams.domain.reasons import Rejection, illegal_transition, past_step


class Phase(StrEnum):
    """Where a case stands."""

    REPORTED = "reported"
    REGISTERED = "registered"
    REJECTED = "rejected"
    PROVEN = "proven"
    NOT_PROVEN = "not_proven"
    REFERRED = "referred"
    RECOMMENDED = "recommended"
    NOT_RECOMMENDED = "not_recommended"
    SANCTIONED = "sanctioned"
    CLOSED = "closed"


#: The phases one event moves a case to from each phase (streams.domain.lifecycle's
#: ``_next_phase``). Closing is left out: a closed case takes no step of a phase
#: (streams.domain.lifecycle's ``_closed_rule``), so it reaches none of them.
NEXT: Mapping[Phase, frozenset[Phase]] = {
    Phase.REPORTED: frozenset({Phase.REGISTERED, Phase.REJECTED}),
    Phase.REGISTERED: frozenset({Phase.PROVEN, Phase.NOT_PROVEN}),
    Phase.PROVEN: frozenset({Phase.REFERRED}),
    Phase.REFERRED: frozenset({Phase.RECOMMENDED, Phase.NOT_RECOMMENDED}),
    Phase.RECOMMENDED: frozenset({Phase.SANCTIONED}),
}


def reachable(phase: Phase) -> frozenset[Phase]:
    """``phase`` and every phase a case in it can still come to.

    >>> sorted(reachable(Phase.REFERRED))
    ['not_recommended', 'recommended', 'referred', 'sanctioned']
    """
    found = {phase}
    waiting = [phase]
    while waiting:
        for later in NEXT.get(waiting.pop(), frozenset()) - found:
            found.add(later)
            waiting.append(later)
    return frozenset(found)


def is_past(phase: Phase, wanted: Collection[Phase]) -> bool:
    """Whether a case in ``phase`` can never again be in any of ``wanted``.

    >>> is_past(Phase.SANCTIONED, {Phase.REFERRED}), is_past(Phase.PROVEN, {Phase.RECOMMENDED})
    (True, False)
    """
    return reachable(phase).isdisjoint(wanted)


def phase_refusal(event_type: str, phase: Phase, wanted: Collection[Phase]) -> Rejection:
    """The refusal of ``event_type``, which needs the case in one of ``wanted``, in ``phase``."""
    needed = " or ".join(sorted(item.value for item in wanted))
    if is_past(phase, wanted):
        return past_step(
            event_type,
            f"the case is {phase.value}, past {needed}, and a case's lifecycle only moves forward",
        )
    return illegal_transition(event_type, f"the case is {phase.value}, not {needed}")
