"""Deadline rules (``data/deadlines.toml``) and the clocks they run on each case.

A rule names its legal source and the party that answers for it
(:mod:`streams.domain.responsibility`); clocks count Indonesian working days
(:mod:`streams.domain.calendar`) from the day the starting event happened and run out at midnight
Jakarta time after the last working day. A clock that another party answers for than the
starting event's sender starts no earlier than the hub recorded that event: the party cannot act
on what it was not told, and a sender could otherwise date its event back to put that party in
breach on arrival. A clock its sender answers for runs on the times that sender signs: from
its event's time to that of its own event stopping it (it can date either, so the hub's
recording time would judge only its delivery). Clocks live in the case's lifecycle, so they
start and stop in exactly the order ingress accepts events. A clock running through a year
without holiday data is kept, counted on weekends only and marked ``"provisional": true``.

A clock that had run out before the hub recorded the event starting it is history being
imported (a backlog): the timer leaves it for a grace (``KAWAL_HISTORY_GRACE_SECONDS``, a day
by default), so that the rest of that history, which may show the step taken in time, comes
before any breach is recorded.
"""

from __future__ import annotations

import functools
import tomllib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from schemas.envelope import envelope
from schemas.errors import KawalError
from streams.domain.calendar import MAX_WORKING_DAYS, WorkingCalendar
from streams.domain.data_files import read_toml
from streams.domain.lifecycle import CaseLifecycle
from streams.domain.responsibility import (
    RESPONSIBLE_ROLES,
    SUPERVISOR,
    clock_institution,
    party_institution,
    responsible_party,
)

#: Western Indonesia Time, where the agencies' working days end.
JAKARTA = timezone(timedelta(hours=7))
#: Namespace of breach event ids: one breach per clock, however often the timer looks.
BREACH_NAMESPACE = uuid.UUID("5f0c1d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f")
#: How long the timer leaves a clock that ran out before the hub learnt of it, by default: a
#: backlog's later events come after its first, in the same import or its sender's next.
HISTORY_GRACE = timedelta(hours=24)


class DeadlineRulesError(KawalError):
    """The deadline rules cannot be read."""


@dataclass(frozen=True)
class DeadlineRule:
    """One configured deadline."""

    id: str
    starts_on: str
    stops_on: frozenset[str]
    working_days: int
    #: The party that answers for it (:mod:`streams.domain.responsibility`), by its current name.
    responsible: str
    legal_source: str
    #: Field of the starting event giving the working days instead, when it gives any.
    days_from: str | None = None


def load_rules(path: Path | None = None) -> dict[str, DeadlineRule]:
    """The rules by id, from ``path`` or the bundled file.

    Raises:
        DeadlineRulesError: unreadable file or an incomplete rule.
    """
    try:
        rules = [_rule(entry) for entry in read_toml(path, "deadlines.toml").get("rule", [])]
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise DeadlineRulesError(
            f"cannot read the deadline rules {path or '(bundled)'}: {exc!r}; every [[rule]] "
            "needs id, starts_on, stops_on, working_days, responsible and legal_source"
        ) from exc
    return {rule.id: rule for rule in rules}


def _rule(entry: dict[str, Any]) -> DeadlineRule:
    responsible = responsible_party(entry["responsible"])
    if not 0 < int(entry["working_days"]) <= MAX_WORKING_DAYS:
        raise ValueError(f"working_days must be 1 to {MAX_WORKING_DAYS}")
    return DeadlineRule(
        id=entry["id"],
        starts_on=entry["starts_on"],
        stops_on=frozenset(entry["stops_on"]),
        working_days=int(entry["working_days"]),
        responsible=responsible,
        legal_source=entry["legal_source"],
        days_from=entry.get("days_from"),
    )


def update_clocks(
    case: CaseLifecycle,
    rules: dict[str, DeadlineRule],
    calendar: WorkingCalendar,
    event_type: str,
    record: dict[str, Any],
    received_at: datetime | None = None,
) -> None:
    """Stop the clocks ``event_type`` stops, start those it starts (the caller saves ``case``).

    A DeadlineBreached marks the clock it reports as breached: the clock stays, overdue, until
    an event stops it, so the case still shows what it waits for. A clock whose rule is no
    longer configured stays as it is (ops sees it counted as untracked).

    A clock stopped by an event the hub recorded at or after its due date, before its breach
    was recorded, stays marked met late (``met_at``, when the hub recorded that event): it no
    longer runs, but its breach is still to be recorded, and the deadline timer reports it
    like any clock that ran out (:func:`unreported`). Its DeadlineBreached removes it.

    Args:
        case: The case after the event.
        rules: The deadline rules by id.
        calendar: The working-day calendar.
        event_type: The event's short name.
        record: The event.
        received_at: When the hub recorded the event (its ``recorded_at``); None: when it
            says it happened. A clock another party than the sender answers for starts at the
            later of the two, and stops when the hub recorded the event stopping it.
    """
    happened: datetime = record["envelope"]["event_time"]
    sender = record["envelope"]["source"]
    recorded = received_at or happened
    after = (
        _stopped(
            clock,
            rules.get(clock["rule_id"]),
            event_type,
            happened if clock.get("own_by") == sender else recorded,
        )
        for clock in case.clocks
    )
    case.clocks = [clock for clock in after if clock is not None]
    if event_type == "DeadlineBreached":
        case.clocks = [
            _breached(clock, record) for clock in case.clocks if not _reported_met(clock, record)
        ]
    if event_type == "RecommendationIssued" and not record["proven"]:
        return
    for rule in rules.values():
        if rule.starts_on == event_type:
            responsible = party_institution(case, rule.responsible)
            own = responsible == sender
            started = happened if own or received_at is None else max(happened, received_at)
            clock = _start_clock(rule, calendar, record, started)
            if rule.responsible == SUPERVISOR:
                clock["responsible"] = responsible
            case.clocks = [*case.clocks, _watched(clock, sender if own else None, received_at)]


def _stopped(
    clock: dict[str, Any], rule: DeadlineRule | None, event_type: str, stopped_at: datetime
) -> dict[str, Any] | None:
    """``clock`` after ``event_type`` recorded at ``stopped_at``: None once stopped.

    Stopped at or after its due date before its breach was recorded, it is kept met late.
    """
    if rule is None or event_type not in rule.stops_on or is_met(clock):
        return clock
    if is_breached(clock) or stopped_at < datetime.fromisoformat(clock["due_at"]):
        return None
    return clock | {"met_at": stopped_at.isoformat()}


def _reports(clock: dict[str, Any], breach: dict[str, Any]) -> bool:
    """Whether ``breach`` (a DeadlineBreached) reports ``clock``."""
    return bool(
        (clock["rule_id"], clock["caused_by"]) == (breach["rule_id"], breach["caused_by_event_id"])
    )


def _reported_met(clock: dict[str, Any], breach: dict[str, Any]) -> bool:
    """Whether ``clock`` was met late and ``breach`` is its breach, which ends it."""
    return is_met(clock) and _reports(clock, breach)


def _breached(clock: dict[str, Any], breach: dict[str, Any]) -> dict[str, Any]:
    """``clock`` marked breached if ``breach`` (a DeadlineBreached) reports it.

    A clock keeping whom it answers to takes the institution the breach named: a case read back
    from the store under today's rules still names whom the hub held to account then.
    """
    if not _reports(clock, breach) or is_breached(clock):
        return clock
    named = {"responsible": breach["responsible_institution"]} if "responsible" in clock else {}
    return clock | {"breached_at": breach["breached_at"].isoformat()} | named


def _watched(
    clock: dict[str, Any], own_by: str | None, received_at: datetime | None
) -> dict[str, Any]:
    """``clock`` with how the hub watches it.

    ``own_by``: the sender that answers for it, whose own event's time stops it (it started at
    that sender's time: dating its own event back only shortens its own time). The clock of
    another party started no earlier than the hub recorded the event, since that party learns
    of it only then. ``history_from``: when the hub recorded the start of a clock that had run
    out by then, which the timer leaves for a grace from that moment (:func:`unreported`).
    """
    if own_by is not None:
        clock = clock | {"own_by": own_by}
    if received_at is not None and datetime.fromisoformat(clock["due_at"]) <= received_at:
        clock = clock | {"history_from": received_at.isoformat()}
    return clock


def _start_clock(
    rule: DeadlineRule, calendar: WorkingCalendar, record: dict[str, Any], started: datetime
) -> dict[str, Any]:
    days = clock_days(rule, record)
    due_at, provisional = _due_at(calendar, started.astimezone(JAKARTA).date(), days)
    # A year without holiday data never drops a clock: it runs on weekends only, marked
    # provisional, and the runtime tells ops (provisional_clocks).
    return {
        "rule_id": rule.id,
        "started_at": started.isoformat(),
        "due_at": due_at,
        "caused_by": record["envelope"]["event_id"],
        "provisional": provisional,
        "working_days": days,
    }


def clock_days(rule: DeadlineRule, record: dict[str, Any]) -> int:
    """The working days a clock of ``rule`` started by ``record`` runs.

    The starting event's ``days_from`` field when the rule names one and the event gives it
    (ingress refused a value out of range), else the rule's own.
    """
    given = record.get(rule.days_from) if rule.days_from else None
    return int(given) if given else rule.working_days


@functools.lru_cache(maxsize=4096)
def _due_at(calendar: WorkingCalendar, started_on: date, working_days: int) -> tuple[str, bool]:
    """When a clock started on ``started_on`` runs out, in UTC ISO 8601, and if provisionally.

    Remembered: a day's events all start clocks on the same day, and counting working days
    walks the calendar one day at a time.
    """
    counted = calendar.count(started_on, working_days)
    return due_instant(counted.last_day).isoformat(), counted.provisional


def last_working_day(calendar: WorkingCalendar, started: datetime, working_days: int) -> date:
    """The last working day of a clock of ``working_days`` started at ``started`` (aware).

    The day the clock runs out after (:func:`due_instant`), counted as a started clock is:
    from its Jakarta day, weekends only through a year without holiday data.
    """
    return calendar.count(started.astimezone(JAKARTA).date(), working_days).last_day


def due_instant(last_day: date) -> datetime:
    """The instant a clock whose last working day is ``last_day`` runs out, in UTC.

    Midnight Jakarta time after that day: the whole last working day is the agencies' to use.
    """
    return datetime.combine(last_day + timedelta(days=1), time(0), JAKARTA).astimezone(UTC)


def is_provisional(clock: dict[str, Any]) -> bool:
    """Whether ``clock``'s due date was counted on weekends only.

    Clocks stored before the calendar could say so have no such field: they were counted on
    full holiday data, as a clock without it was dropped.
    """
    return bool(clock.get("provisional", False))


def provisional_clocks(case: CaseLifecycle, event_id: str) -> list[dict[str, Any]]:
    """The clocks ``event_id`` started on ``case`` that run on a provisional calendar."""
    return [
        clock for clock in case.clocks if clock["caused_by"] == event_id and is_provisional(clock)
    ]


def uncovered_years(calendar: WorkingCalendar, clock: dict[str, Any]) -> list[int]:
    """The years ``clock`` runs through that have no holiday data."""
    first = datetime.fromisoformat(clock["started_at"]).astimezone(JAKARTA).year
    last = datetime.fromisoformat(clock["due_at"]).astimezone(JAKARTA).year
    return [year for year in range(first, last + 1) if not calendar.covers(year)]


def explain_due(calendar: WorkingCalendar, start: date, working_days: int) -> dict[str, Any]:
    """How a clock started on ``start`` runs ``working_days`` working days, as plain data.

    The due instant is the one the hub stores in the clock, so people can check the hub.
    """
    counted = calendar.count(start, working_days)
    due = due_instant(counted.last_day)
    return {
        "start": start.isoformat(),
        "working_days": working_days,
        "last_working_day": counted.last_day.isoformat(),
        "due_at": due.isoformat(),
        "due_at_jakarta": due.astimezone(JAKARTA).isoformat(),
        "provisional": counted.provisional,
        "provisional_years": list(counted.provisional_years),
        "skipped": [
            {
                "date": off.day.isoformat(),
                "weekday": off.day.strftime("%A"),
                "kind": off.kind.value,
                "name": off.name,
                "source": off.source,
            }
            for off in counted.skipped
        ],
        "counted_as_working": [
            {"date": day.day.isoformat(), "name": day.name, "source": day.source}
            for day in counted.reinstated
        ],
        "calendar": {
            str(year): calendar.coverage(year)
            for year in range(start.year, counted.last_day.year + 1)
        },
    }


def is_breached(clock: dict[str, Any]) -> bool:
    """Whether the hub recorded ``clock``'s DeadlineBreached (and no event stopped it since)."""
    return "breached_at" in clock


def is_met(clock: dict[str, Any]) -> bool:
    """Whether ``clock`` was stopped after its due date and waits only for its breach."""
    return clock.get("met_at") is not None


def waiting(case: CaseLifecycle) -> list[dict[str, Any]]:
    """The case's clocks still waiting for their event, breached or not (not met late)."""
    return [clock for clock in case.clocks if not is_met(clock)]


def overdue(case: CaseLifecycle, now: datetime) -> list[dict[str, Any]]:
    """The case's waiting clocks that have run out by ``now``, their breach recorded or not."""
    return [clock for clock in waiting(case) if datetime.fromisoformat(clock["due_at"]) <= now]


def unreported(
    case: CaseLifecycle, now: datetime, history_grace: timedelta = HISTORY_GRACE
) -> list[dict[str, Any]]:
    """The clocks that have run out by ``now`` and whose breach the hub has not recorded.

    Clocks met late included: their event came after the due date, so they were breached.
    History is left for ``history_grace`` after the hub recorded its start, for the rest of its
    import (``KAWAL_HISTORY_GRACE_SECONDS``, :func:`update_clocks`).
    """
    return [
        clock
        for clock in case.clocks
        if datetime.fromisoformat(clock["due_at"]) <= now
        and not is_breached(clock)
        and datetime.fromisoformat(clock.get("history_from", clock["due_at"])) + history_grace
        <= now
    ]


def breach_event(
    case_id: str, case: CaseLifecycle, clock: dict[str, Any], rule: DeadlineRule, now: datetime
) -> dict[str, Any]:
    """The DeadlineBreached event for a clock that ran out (``met_at`` set if met late)."""
    responsible = clock_institution(case, clock, rule.responsible)
    event_id = uuid.uuid5(BREACH_NAMESPACE, f"{case_id}/{rule.id}/{clock['caused_by']}")
    return {
        "envelope": envelope(
            event_id=str(event_id),
            case_id=case_id,
            event_type="DeadlineBreached",
            event_time=now,
            source="kawal",
            actor_ref="kawal:deadline-timer",
        ),
        "rule_id": rule.id,
        "legal_source": rule.legal_source,
        # Clocks stored before they kept their length ran the rule's.
        "working_days": clock.get("working_days", rule.working_days),
        "clock_started_at": datetime.fromisoformat(clock["started_at"]),
        "due_at": datetime.fromisoformat(clock["due_at"]),
        "breached_at": now,
        "responsible_institution": responsible,
        "responsible_role": RESPONSIBLE_ROLES[rule.responsible],
        "caused_by_event_id": clock["caused_by"],
        "met_at": datetime.fromisoformat(clock["met_at"]) if is_met(clock) else None,
    }
