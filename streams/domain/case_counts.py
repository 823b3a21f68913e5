"""What ops counts of the open cases: clocks by rule and state, recommendations by follow-up.

A projection of case lifecycles (:mod:`streams.domain.lifecycle`) into counts, never into
identifiers: each count is keyed by a deadline rule id, the role that answers for it (the
``InstitutionRole`` symbol), a phase or a follow-up state, all closed vocabularies.

Clock states: ``running`` (every clock not yet breached), ``overdue`` (due, but the deadline
timer has not yet recorded its DeadlineBreached; how long one stays so, which tells whether the
timer runs, is :mod:`streams.hub.overdue_clocks`), ``breached`` (its DeadlineBreached
recorded, and still no event that stops it: what the responsible institution has left undone),
``provisional`` (due date counted on weekends only, the calendar lacking a year) and
``untracked`` (its rule is no longer configured, so no timer will ever breach it). A clock
stopped after its due date whose breach is still to be recorded (met late) runs no more and
is counted in no state but ``untracked``; the deadline timer reports it.

Recommendation states, one per case with a proven recommendation: ``pending`` (within the
follow-up deadline), ``overdue_unblocked`` (the deadline breached and BKN has not blocked the
personnel data), ``overdue_blocked``, ``followed_up`` (a sanction imposed, the case closed
since or not) and ``closed_without_follow_up`` (closed before any sanction, e.g. the civil
servant left the service). A case closed after its sanction stays ``followed_up``: left out,
the followed-up cases would leave the count as they are closed while the ignored ones stay
open, and the share followed up would fall towards 0 over an election's cases. A case closed
before the hub recorded the phase it was closed in is left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from streams.domain.deadlines import DeadlineRule, is_breached, is_met, is_provisional
from streams.domain.lifecycle import CaseLifecycle, Phase
from streams.domain.responsibility import RESPONSIBLE_ROLES

#: Responsible role of a clock whose rule is no longer configured.
UNKNOWN_ROLE = "UNKNOWN"
#: Clock states, recommendation states (see the module docstring).
CLOCK_STATES = ("running", "overdue", "breached", "provisional", "untracked")
RECOMMENDATION_STATES = (
    "pending",
    "overdue_unblocked",
    "overdue_blocked",
    "followed_up",
    "closed_without_follow_up",
)
#: How many years ahead the calendar's coverage is looked for.
CALENDAR_HORIZON_YEARS = 10


@dataclass(frozen=True)
class CaseCounts:
    """Counts of the cases a worker holds."""

    #: Clocks by (rule id, responsible role, state).
    clocks: Mapping[tuple[str, str, str], int]
    #: Cases by recommendation follow-up state.
    recommendations: Mapping[str, int]
    #: Cases by phase.
    phases: Mapping[str, int]


def count_cases(
    cases: Iterable[CaseLifecycle], rules: Mapping[str, DeadlineRule], now: datetime
) -> CaseCounts:
    """The counts of ``cases`` at ``now`` (aware), every rule and state present, zeros too."""
    tally = CaseTally(rules, now)
    for case in cases:
        tally.add(case)
    return tally.counts()


class CaseTally:
    """Counts taken one case at a time, for a reader that cannot hold every case at once."""

    def __init__(self, rules: Mapping[str, DeadlineRule], now: datetime) -> None:
        """Count clocks of ``rules`` as they stand at ``now`` (aware); every count starts at 0."""
        self._rules = rules
        self._now = now
        self._clocks: Counter[tuple[str, str, str]] = Counter()
        for rule in rules.values():
            for state in CLOCK_STATES[:4]:
                self._clocks[rule.id, RESPONSIBLE_ROLES[rule.responsible], state] = 0
        self._recommendations: Counter[str] = Counter(dict.fromkeys(RECOMMENDATION_STATES, 0))
        self._phases: Counter[str] = Counter(dict.fromkeys((p.value for p in Phase), 0))

    def add(self, case: CaseLifecycle) -> None:
        """Count ``case``."""
        self._phases[case.phase.value] += 1
        follow_up = recommendation_state(case)
        if follow_up is not None:
            self._recommendations[follow_up] += 1
        for clock in case.clocks:
            for key in _clock_keys(clock, self._rules, self._now):
                self._clocks[key] += 1

    def counts(self) -> CaseCounts:
        """The counts of the cases added so far."""
        return CaseCounts(dict(self._clocks), dict(self._recommendations), dict(self._phases))


def _clock_keys(
    clock: Mapping[str, object], rules: Mapping[str, DeadlineRule], now: datetime
) -> list[tuple[str, str, str]]:
    rule_id = str(clock["rule_id"])
    rule = rules.get(rule_id)
    if rule is None:
        return [(rule_id, UNKNOWN_ROLE, "untracked")]
    role = RESPONSIBLE_ROLES[rule.responsible]
    if is_met(dict(clock)):
        return []
    if is_breached(dict(clock)):
        keys = [(rule_id, role, "breached")]
    else:
        keys = [(rule_id, role, "running")]
        if datetime.fromisoformat(str(clock["due_at"])) <= now:
            keys.append((rule_id, role, "overdue"))
    if is_provisional(dict(clock)):
        keys.append((rule_id, role, "provisional"))
    return keys


def recommendation_state(case: CaseLifecycle) -> str | None:
    """Where a case stands in following up its proven recommendation, None if it has none."""
    phase = case.phase
    if phase is Phase.CLOSED:
        closed_from = Phase(case.closed_from) if case.closed_from else None
        if closed_from is Phase.RECOMMENDED:
            return "closed_without_follow_up"
        phase = closed_from or phase
    if phase is Phase.SANCTIONED:
        return "followed_up"
    if phase is not Phase.RECOMMENDED:
        return None
    if not case.follow_up_breached:
        return "pending"
    return "overdue_blocked" if case.blocked else "overdue_unblocked"


def last_covered_year(covers: Callable[[int], bool], this_year: int) -> int:
    """The last year of an unbroken run of years with holiday data from ``this_year`` on.

    ``this_year - 1`` when even this year has none; a clock running past the year returned is
    counted on weekends only (provisional).
    """
    year = this_year
    while year < this_year + CALENDAR_HORIZON_YEARS and covers(year):
        year += 1
    return year - 1
