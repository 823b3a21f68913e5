"""What the dashboard knows of each case: its outcome and when each milestone happened.

The outcome (reported, proven, recommended, followed up, sanctioned) is exactly the one of
``kawal stats`` (:func:`streams.audit.stats.apply`), so the counts of both agree. The times are
the envelope's ``event_time`` (when the sender says the step happened, the time the deadline
clocks start from), of the first event of each milestone:

- ``received``: the ``ReportReceived``;
- ``registered``: the ``ReportRegistered``;
- ``verified``: the first ``VerificationCompleted``, whatever its verdict;
- ``proven``: the first ``VerificationCompleted`` with verdict ``PROVEN``;
- ``recommended``: the first ``RecommendationIssued`` that found the violation proven;
- ``followed_up``: the first ``SanctionImposed`` after that recommendation.

Where a case stands in following up its recommendation is the ``kawal_recommendations``
metric's state (:func:`streams.domain.case_counts.recommendation_state`), taken from the case's
phase folded as ingress folds it (:func:`streams.domain.lifecycle.advance`) over the events read
here: they are every event that moves a case to or out of its recommendation (the
recommendation, the sanction, the closing) or records its follow-up deadline breached.

Only non-personal fields are read. Each case's facts keep its id, which no public figure
shows (:mod:`streams.audit.figures.every_case` lists them to readers party to every case).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from schemas.codec import AvroCodec
from streams.audit.decoding import EntryDecoder
from streams.audit.stats import READ_TYPES, CaseOutcome, apply
from streams.audit.store import AuditStore
from streams.domain.case_counts import recommendation_state
from streams.domain.lifecycle import CaseLifecycle, advance, start

#: Event types read: those of ``kawal stats``, the registration and the closing.
FACT_TYPES = (*READ_TYPES, "ReportRegistered", "CaseClosed")
#: The lifecycle's authority is not read here (no transition is checked).
NO_AUTHORITY = ""


@dataclass
class CaseFacts:
    """One case's outcome and milestone times (no personal data)."""

    outcome: CaseOutcome = field(default_factory=CaseOutcome)
    #: The case's id: never in a public figure; a reader party to every case gets the ids of
    #: the recommendations not followed up (:mod:`streams.audit.figures.every_case`).
    case_id: str = ""
    #: Milestone name (see the module) -> when it happened.
    times: dict[str, datetime] = field(default_factory=dict)
    #: Its phase, follow-up breach and closing, folded from the events read (see the module).
    lifecycle: CaseLifecycle | None = None

    @property
    def follow_up_state(self) -> str | None:
        """Its state in the ``kawal_recommendations`` metric, None without a recommendation."""
        return recommendation_state(self.lifecycle) if self.lifecycle else None


@dataclass(frozen=True, eq=False)
class Projection:
    """Every case's facts, how many entries could not be decoded, and when the store was read.

    Two reads are two projections: a projection is equal (and hashed) only to itself.
    """

    cases: list[CaseFacts]
    skipped_entries: int
    read_at: datetime


def read_facts(store: AuditStore, codec: AvroCodec) -> Projection:
    """The facts of every reported case in ``store``.

    Raises:
        StoreError: the store cannot be read.
    """
    return fold(store.events_of_types(FACT_TYPES), codec)


def fold(entries: Iterable[tuple[str, bytes]], codec: AvroCodec) -> Projection:
    """Fold ``(case_id, event bytes)`` entries, in trail order per case, into case facts."""
    read_at = datetime.now(UTC)
    cases: dict[str, CaseFacts] = {}
    decoder = EntryDecoder(codec)
    for case_id, record in decoder.records(entries):
        note(cases.setdefault(case_id, CaseFacts(case_id=case_id)), record)
    reported = [case for case in cases.values() if case.outcome.reported]
    return Projection(reported, decoder.skipped, read_at)


def note(case: CaseFacts, record: dict[str, Any]) -> None:
    """Update ``case`` with one decoded event."""
    event_type = record["envelope"]["event_type"]
    followed_before = case.outcome.followed_up
    apply(case.outcome, record)
    if event_type == "ReportReceived":
        case.lifecycle = start(record, NO_AUTHORITY)
    elif case.lifecycle is not None:
        advance(case.lifecycle, event_type, record)
    milestone = _milestone(event_type, record, case, followed_before)
    if milestone:
        case.times.setdefault(milestone, record["envelope"]["event_time"])


def _milestone(
    event_type: str, record: dict[str, Any], case: CaseFacts, followed_before: bool
) -> str:
    if event_type == "ReportReceived":
        return "received"
    if event_type == "ReportRegistered":
        return "registered"
    if event_type == "VerificationCompleted":
        # The first verdict is "verified"; a PROVEN one also marks "proven".
        if record["verdict"] == "PROVEN":
            case.times.setdefault("proven", record["envelope"]["event_time"])
        return "verified"
    if event_type == "RecommendationIssued" and record["proven"]:
        return "recommended"
    if event_type == "SanctionImposed" and case.outcome.followed_up and not followed_before:
        return "followed_up"
    return ""
