"""The demo authority's register holds the cases the demo's history says it recommended on.

``kawal up --demo`` publishes a history of cases (:mod:`streams.local.demo`,
:mod:`streams.local.demo_mix`) before its connectors start; the cases it takes to a
recommendation carry the authority's ``RecommendationIssued``. Those recommendations are the
authority's, so its register holds those cases too, as recommended (or not recommended, or
closed, as the history left them). Without them its staff would register each of those cases
afresh when ``authority-status`` delivered its referral, and recommend on it whenever the
history's recommendation had not been delivered yet; the hub would refuse every such second
recommendation (``case_past_step``): none in one run, nine in another.

The history published those recommendations already, so nothing goes into the outbox. Only a
register that holds no case yet gets them, so a restarted demo, or one whose staff have
already worked, is left as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from connectors.authority.simulator import AuthoritySystem
from streams.local.demo import demo_waves
from streams.local.demo_mix import mix_waves


@dataclass(frozen=True)
class HistoryCase:
    """A case of the history as the authority's register holds it."""

    reported_by: str
    case_number: str
    violation: str
    #: ``RECOMMENDED``, ``NOT_RECOMMENDED`` or ``CLOSED``, the register's own statuses.
    status: str


def history_cases(institution: str) -> Iterator[HistoryCase]:
    """The cases ``institution`` issued a recommendation on in the demo's history."""
    by_case: dict[str, dict[str, dict[str, Any]]] = {}
    for wave in [*demo_waves(), *mix_waves()]:
        for event_type, record in wave:
            by_case.setdefault(record["envelope"]["case_id"], {})[event_type] = record
    for case in by_case.values():
        recommendation = case.get("RecommendationIssued")
        if recommendation is None or recommendation["envelope"]["source"] != institution:
            continue
        report = case["ReportReceived"]
        yield HistoryCase(
            reported_by=report["envelope"]["source"],
            case_number=report["case_number"],
            violation=recommendation["violation"],
            status=_status(case),
        )


def _status(case: dict[str, dict[str, Any]]) -> str:
    """The register's status of a case the authority recommended on, as the history left it."""
    if "CaseClosed" in case:
        return "CLOSED"
    return "RECOMMENDED" if case["RecommendationIssued"]["proven"] else "NOT_RECOMMENDED"


def record_history(system: AuthoritySystem, institution: str) -> int:
    """Register the history's cases of ``institution`` in a register without any; how many."""
    if system.holds_cases():
        return 0
    written = 0
    for case in history_cases(institution):
        system.open_case(case.reported_by, case.case_number, case.violation, case.status)
        written += 1
    return written
