"""Deadline rules (``data/deadlines.toml``) and the clocks they run on each case.

A rule names its legal source; clocks count Indonesian working days
(:mod:`streams.domain.calendar`) from the day the starting event happened and run out at midnight
Jakarta time after the last working day. Clocks live in the case's lifecycle, so they start
and stop in exactly the order ingress accepts events.
"""

from __future__ import annotations

import functools
import logging
import tomllib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from schemas.envelope import envelope
from schemas.errors import KawalError
from streams.domain.calendar import CalendarError, WorkingCalendar
from streams.domain.lifecycle import CaseLifecycle

log = logging.getLogger(__name__)

#: Western Indonesia Time, where the agencies' working days end.
JAKARTA = timezone(timedelta(hours=7))
#: Namespace of breach event ids: one breach per clock, however often the timer looks.
BREACH_NAMESPACE = uuid.UUID("5f0c1d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f")
#: Who answers for a clock, and the InstitutionRole symbol of that party.
RESPONSIBLE_ROLES = {
    "reporter": "ELECTION_SUPERVISOR",
    "employing_agency": "PPK",
    "authority": "RECOMMENDING_AUTHORITY",
}


class DeadlineRulesError(KawalError):
    """The deadline rules cannot be read."""


@dataclass(frozen=True)
class DeadlineRule:
    """One configured deadline."""

    id: str
    starts_on: str
    stops_on: frozenset[str]
    working_days: int
    responsible: str
    legal_source: str


def load_rules(path: Path | None = None) -> dict[str, DeadlineRule]:
    """The rules by id, from ``path`` or the bundled file.

    Raises:
        DeadlineRulesError: unreadable file or an incomplete rule.
    """
    try:
        if path is None:
            text = resources.files("streams").joinpath("data/deadlines.toml").read_text()
        else:
            text = path.read_text(encoding="utf-8")
        rules = [_rule(entry) for entry in tomllib.loads(text).get("rule", [])]
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise DeadlineRulesError(
            f"cannot read the deadline rules {path or '(bundled)'}: {exc!r}; every [[rule]] "
            "needs id, starts_on, stops_on, working_days, responsible and legal_source"
        ) from exc
    return {rule.id: rule for rule in rules}


def _rule(entry: dict[str, Any]) -> DeadlineRule:
    if entry["responsible"] not in RESPONSIBLE_ROLES:
        raise ValueError(f"responsible must be one of {sorted(RESPONSIBLE_ROLES)}")
    return DeadlineRule(
        id=entry["id"],
        starts_on=entry["starts_on"],
        stops_on=frozenset(entry["stops_on"]),
        working_days=int(entry["working_days"]),
        responsible=entry["responsible"],
        legal_source=entry["legal_source"],
    )


def update_clocks(
    case: CaseLifecycle,
    rules: dict[str, DeadlineRule],
    calendar: WorkingCalendar,
    event_type: str,
    record: dict[str, Any],
) -> None:
    """Stop the clocks ``event_type`` stops, start those it starts (the caller saves ``case``)."""
    breached = record["rule_id"] if event_type == "DeadlineBreached" else None
    case.clocks = [
        clock
        for clock in case.clocks
        if event_type not in rules[clock["rule_id"]].stops_on and clock["rule_id"] != breached
    ]
    if event_type == "RecommendationIssued" and not record["proven"]:
        return
    for rule in rules.values():
        if rule.starts_on == event_type:
            clock = _start_clock(rule, calendar, record)
            if clock is not None:
                case.clocks = [*case.clocks, clock]


def _start_clock(
    rule: DeadlineRule, calendar: WorkingCalendar, record: dict[str, Any]
) -> dict[str, Any] | None:
    started: datetime = record["envelope"]["event_time"]
    try:
        due_at = _due_at(calendar, started.astimezone(JAKARTA).date(), rule.working_days)
    except CalendarError as exc:
        # The event is still accepted; only this clock cannot be kept.
        log.warning("deadline %s not tracked: %s", rule.id, exc)
        return None
    return {
        "rule_id": rule.id,
        "started_at": started.isoformat(),
        "due_at": due_at,
        "caused_by": record["envelope"]["event_id"],
    }


@functools.lru_cache(maxsize=4096)
def _due_at(calendar: WorkingCalendar, started_on: date, working_days: int) -> str:
    """When a clock started on ``started_on`` runs out, in UTC ISO 8601.

    Remembered: a day's events all start clocks on the same day, and counting working days
    walks the calendar one day at a time.
    """
    last_day = calendar.add_working_days(started_on, working_days)
    due = datetime.combine(last_day + timedelta(days=1), time(0), JAKARTA)
    return due.astimezone(UTC).isoformat()


def overdue(case: CaseLifecycle, now: datetime) -> list[dict[str, Any]]:
    """The case's running clocks that have run out by ``now``."""
    return [clock for clock in case.clocks if datetime.fromisoformat(clock["due_at"]) <= now]


def breach_event(
    case_id: str, case: CaseLifecycle, clock: dict[str, Any], rule: DeadlineRule, now: datetime
) -> dict[str, Any]:
    """The DeadlineBreached event for a clock that ran out."""
    responsible = {
        "reporter": case.reporter,
        "employing_agency": case.employing_agency,
        "authority": case.authority,
    }[rule.responsible]
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
        "working_days": rule.working_days,
        "clock_started_at": datetime.fromisoformat(clock["started_at"]),
        "due_at": datetime.fromisoformat(clock["due_at"]),
        "breached_at": now,
        "responsible_institution": responsible,
        "responsible_role": RESPONSIBLE_ROLES[rule.responsible],
        "caused_by_event_id": clock["caused_by"],
    }
