"""Figures per employing agency (the PPK): violation ratio, follow-up rate, catatan merah.

The agency of a case is the ``employing_agency`` of its ``ReportReceived``: the PPK that
employs the reported civil servant and must follow up a recommendation.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from streams.audit.figures.facts import CaseFacts
from streams.audit.figures.filters import Filters, in_range, matches_place
from streams.domain.headcounts import Headcount
from streams.domain.working_time import jakarta_day

#: Decimals of a ratio per 1,000 civil servants and of a follow-up rate.
PER_1000_DECIMALS = 3
RATE_DECIMALS = 4
#: The column of a recommendation not followed up, by its ``kawal_recommendations`` state; a
#: state not listed (none is expected of a recommendation not followed up) counts as pending.
NOT_FOLLOWED_UP = {
    "pending": "pending",
    "overdue_unblocked": "overdue",
    "overdue_blocked": "overdue",
    "closed_without_follow_up": "closed_without_follow_up",
}


def violation_ratio(
    cases: list[CaseFacts], headcounts: dict[str, Headcount]
) -> list[dict[str, Any]]:
    """Proven cases per agency, and per 1,000 civil servants where a headcount is configured.

    Returns:
        One row per agency with a reported case, most proven first: ``agency``, ``reported``,
        ``proven``, ``civil_servants``, ``proven_per_1000``, ``headcount_as_of`` and
        ``headcount_source`` (the last four None without a headcount).
    """
    reported = Counter(case.outcome.institution for case in cases)
    proven = Counter(case.outcome.institution for case in cases if case.outcome.proven)
    rows = []
    for agency in reported:
        headcount = headcounts.get(agency)
        rows.append(
            {
                "agency": agency,
                "reported": reported[agency],
                "proven": proven[agency],
                "civil_servants": headcount.civil_servants if headcount else None,
                "proven_per_1000": (
                    round(proven[agency] * 1000 / headcount.civil_servants, PER_1000_DECIMALS)
                    if headcount
                    else None
                ),
                "headcount_as_of": headcount.as_of.isoformat() if headcount else None,
                "headcount_source": headcount.source if headcount else None,
            }
        )
    return sorted(rows, key=lambda row: (-row["proven"], row["agency"]))


def follow_up_rate(cases: list[CaseFacts]) -> list[dict[str, Any]]:
    """Per PPK: recommendations it received, how many it followed up, and the rate.

    A recommendation not followed up is ``pending`` (no breach of its follow-up deadline
    recorded: still within it), ``overdue`` (the hub recorded its DeadlineBreached: the
    deadline passed unanswered) or ``closed_without_follow_up`` (the case was closed before any
    sanction, e.g. the civil servant left the service), as the ``kawal_recommendations`` metric
    tells them apart (its two overdue states together).

    Returns:
        One row per agency with a proven recommendation, lowest rate first (the agencies
        ignoring recommendations on top): ``agency``, ``recommended``, ``followed_up``,
        ``not_followed_up``, ``pending``, ``overdue``, ``closed_without_follow_up`` and
        ``follow_up_rate`` (followed up / recommended).
    """
    recommended = Counter(case.outcome.institution for case in cases if case.outcome.recommended)
    followed = Counter(case.outcome.institution for case in cases if case.outcome.followed_up)
    unfollowed = Counter(
        (case.outcome.institution, NOT_FOLLOWED_UP.get(case.follow_up_state or "", "pending"))
        for case in cases
        if case.outcome.recommended and not case.outcome.followed_up
    )
    rows = [
        {
            "agency": agency,
            "recommended": count,
            "followed_up": followed[agency],
            "not_followed_up": count - followed[agency],
            "pending": unfollowed[agency, "pending"],
            "overdue": unfollowed[agency, "overdue"],
            "closed_without_follow_up": unfollowed[agency, "closed_without_follow_up"],
            "follow_up_rate": round(followed[agency] / count, RATE_DECIMALS),
        }
        for agency, count in recommended.items()
    ]
    return sorted(rows, key=lambda row: (row["follow_up_rate"], -row["recommended"], row["agency"]))


def catatan_merah(cases: list[CaseFacts], filters: Filters) -> list[dict[str, Any]]:
    """Agencies with a case proven in the filters' range ("catatan merah", the red mark).

    ``cases`` are all cases: this figure selects by the day a case was proven (its first
    ``VerificationCompleted`` with verdict ``PROVEN``, Jakarta day), not the day it was reported.

    Returns:
        One row per agency, most proven first: ``agency``, ``proven``, ``first_proven_on`` and
        ``last_proven_on`` (days within the range).
    """
    days: dict[str, list[str]] = {}
    for case in cases:
        proven_at = case.times.get("proven")
        # A case proven at first and found not proven on a later verification is no mark.
        if proven_at is None or not case.outcome.proven or not matches_place(case, filters):
            continue
        day = jakarta_day(proven_at)
        if in_range(day, filters):
            days.setdefault(case.outcome.institution, []).append(day.isoformat())
    rows = [
        {
            "agency": agency,
            "proven": len(found),
            "first_proven_on": min(found),
            "last_proven_on": max(found),
        }
        for agency, found in days.items()
    ]
    return sorted(rows, key=lambda row: (-row["proven"], row["agency"]))
