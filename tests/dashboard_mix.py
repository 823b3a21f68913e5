"""A generated mix of cases for the dashboard's figures, written to a real audit store.

Several agencies, regions and elections; each step of a case a few days after the one before,
at varied hours so that the Jakarta day of an event differs from its UTC day, and starting
near the holidays of 2024 (Idul Fitri with its cuti bersama, Ascension, the regional election
day, Christmas, New Year) so that handling times cross them.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from schemas.codec import AvroCodec
from streams.audit.store import AuditStore
from streams.domain.deadlines import breach_event, load_rules
from streams.domain.lifecycle import FOLLOW_UP_RULE, start
from tests.casemix import appeal_decided
from tests.entrytools import signed_rows
from tests.hubtools import (
    envelope,
    recommendation,
    referral,
    registration,
    report,
    sanction,
    verification,
)

#: (election, region code, employing agency) of the mix's cases.
PLACES = (
    ("pilkada-2024", "3374", "ppk.3374"),
    ("pilkada-2024", "3301", "ppk.3301"),
    ("pilkada-2024", "7371", "ppk.7371"),
    ("pemilu-2024", "3374", "ppk.3374"),
    ("pemilu-2024", "9471", "ppk.9471"),
)
#: Days the mix's cases start on: just before a holiday or a long weekend.
STARTS = (
    datetime(2024, 4, 3, 2, tzinfo=UTC),
    datetime(2024, 4, 5, 9, tzinfo=UTC),
    datetime(2024, 5, 7, 20, tzinfo=UTC),
    datetime(2024, 5, 21, 4, tzinfo=UTC),
    datetime(2024, 6, 13, 16, tzinfo=UTC),
    datetime(2024, 11, 25, 3, tzinfo=UTC),
    datetime(2024, 12, 20, 11, tzinfo=UTC),
    datetime(2024, 12, 23, 17, 30, tzinfo=UTC),
    datetime(2024, 12, 30, 1, tzinfo=UTC),
)
#: How far each case goes, from "only reported" to "sanctioned, then overturned on appeal".
OUTCOMES = (
    "received",
    "registered",
    "not_proven",
    "proven",
    "reverified",
    "not_recommended",
    "recommended",
    "followed_up",
    "overturned",
)
#: Steps of each outcome after the report.
STEPS: dict[str, tuple[str, ...]] = {
    "received": (),
    "registered": ("registered",),
    "not_proven": ("registered", "not_proven"),
    "proven": ("registered", "proven"),
    # Not proven at first, proven on more information, then recommended.
    "reverified": ("registered", "not_proven", "proven", "referred", "recommended"),
    "not_recommended": ("registered", "proven", "referred", "not_recommended"),
    "recommended": ("registered", "proven", "referred", "recommended"),
    "followed_up": ("registered", "proven", "referred", "recommended", "sanctioned"),
    "overturned": ("registered", "proven", "referred", "recommended", "sanctioned", "overturned"),
}


def generate(seed: int, count: int) -> list[list[dict[str, Any]]]:
    """``count`` cases' events, in trail order, drawn with ``seed``."""
    rng = random.Random(seed)
    return [_case(rng, rng.choice(PLACES), rng.choice(OUTCOMES)) for _ in range(count)]


def breached(seed: int, count: int) -> list[list[dict[str, Any]]]:
    """``count`` recommended cases whose follow-up deadline the hub recorded as breached.

    Every third one was followed up after the breach (late); the others were ignored.
    """
    rng = random.Random(seed)
    cases = []
    for number in range(count):
        events = _case(rng, rng.choice(PLACES), "recommended")
        issued = events[-1]
        events.append(follow_up_breach(events[0], issued))
        if number % 3 == 0:
            late = sanction(issued["envelope"]["case_id"])
            late["envelope"]["event_time"] = events[-1]["envelope"]["event_time"] + timedelta(
                days=2
            )
            events.append(late)
        cases.append(events)
    return cases


def closed(seed: int, count: int) -> list[list[dict[str, Any]]]:
    """``count`` recommended cases the authority closed.

    Every third one was closed after its sanction (followed up); the others before any, the
    civil servant having left the service, every other one of them after its follow-up
    deadline's breach.
    """
    rng = random.Random(seed)
    cases = []
    for number in range(count):
        events = _case(rng, rng.choice(PLACES), "recommended")
        case_id = events[0]["envelope"]["case_id"]
        reason = "SUBJECT_LEFT_SERVICE"
        if number % 3 == 0:
            reason = "SANCTION_IMPOSED"
            events.append(_after(events[-1], sanction(case_id)))
        elif number % 2 == 0:
            events.append(follow_up_breach(events[0], events[-1]))
        events.append(_after(events[-1], closing(case_id, reason)))
        cases.append(events)
    return cases


def _after(before: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """``record``, happening 5 days after ``before``."""
    record["envelope"]["event_time"] = before["envelope"]["event_time"] + timedelta(days=5)
    return record


def closing(case_id: str, reason: str) -> dict[str, Any]:
    """The authority's CaseClosed of ``case_id`` for ``reason``."""
    return {
        "envelope": envelope(case_id, "bkn", "CaseClosed"),
        "closing_reason": reason,
        "closed_on": date(2025, 2, 3),
        "final_sanction": (
            {"level": "MEDIUM", "kind": "ALLOWANCE_CUT_25_6_MONTHS"}
            if reason == "SANCTION_IMPOSED"
            else None
        ),
        "merged_into_case_id": None,
        "remarks": None,
    }


def follow_up_breach(first: dict[str, Any], issued: dict[str, Any]) -> dict[str, Any]:
    """The hub's DeadlineBreached of ``issued``'s follow-up clock, 30 days after it."""
    at = issued["envelope"]["event_time"] + timedelta(days=30)
    clock = {
        "rule_id": FOLLOW_UP_RULE,
        "started_at": issued["envelope"]["event_time"].isoformat(),
        "due_at": (at - timedelta(days=1)).isoformat(),
        "caused_by": issued["envelope"]["event_id"],
    }
    rule = load_rules()[FOLLOW_UP_RULE]
    return breach_event(first["envelope"]["case_id"], start(first, "bkn"), clock, rule, at)


def write(store: AuditStore, codec: AvroCodec, cases: list[list[dict[str, Any]]]) -> None:
    """Store each case's events as the ledger does: signed, committed, chained."""
    for events in cases:
        store.insert(signed_rows(codec, events))


def _case(rng: random.Random, place: tuple[str, str, str], outcome: str) -> list[dict[str, Any]]:
    election, region, agency = place
    first = report(number=f"LP/{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}")
    first |= {"election": election, "region_code": region, "employing_agency": agency}
    case_id = first["envelope"]["case_id"]
    moment = rng.choice(STARTS) + timedelta(hours=rng.randint(0, 23), minutes=rng.randint(0, 59))
    first["envelope"]["event_time"] = moment
    events = [first]
    for step in STEPS[outcome]:
        record = _step(case_id, step, agency)
        moment += timedelta(days=rng.randint(0, 6), hours=rng.randint(0, 23))
        record["envelope"]["event_time"] = moment
        events.append(record)
    return events


def _step(case_id: str, step: str, agency: str) -> dict[str, Any]:
    if step == "registered":
        return registration(case_id)
    if step in ("proven", "not_proven"):
        return verification(case_id, proven=step == "proven")
    if step == "referred":
        return referral(case_id)
    if step in ("recommended", "not_recommended"):
        issued = recommendation(case_id)
        if step == "not_recommended":
            issued |= {"proven": False, "sanction_level": None, "sanction_kind": None}
        return issued
    if step == "sanctioned":
        return sanction(case_id)
    return appeal_decided(case_id, str(uuid.uuid4()), "OVERTURNED")
