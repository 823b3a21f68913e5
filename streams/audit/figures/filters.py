"""Which cases a figure counts: by election, region, agency and a range of days.

A case belongs to the election, region and employing agency of its ``ReportReceived``. The
region filter takes a Kemendagri code and keeps the cases of that region and every region
within it (``33`` keeps ``3374``). The range of days (inclusive, Jakarta days) keeps the cases
reported in it, except for "catatan merah", which keeps the cases *proven* in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from schemas.errors import KawalError
from schemas.field_formats import ELECTION_FORM, calendar_day, is_election
from streams.audit.figures.facts import CaseFacts
from streams.domain.working_time import jakarta_day

#: A Kemendagri region code as the events carry it (2, 4, 6 or 10 digits: province, regency,
#: district, village), with dots between the levels allowed (``33.74``).
REGION_CODE = re.compile(r"^[0-9]{2}(?:\.?[0-9]{2}(?:\.?[0-9]{2}(?:\.?[0-9]{4})?)?)?$")
#: Institution ids as the registry writes them.
IDENTIFIER = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class FilterError(KawalError):
    """A filter value cannot be used.

    Attributes:
        field: which one: ``election``, ``region``, ``agency``, ``from``, ``to``, or ``range``
            (the range ends before it starts); pages tell the reason in their language by it.
    """

    def __init__(self, message: str, field: str, as_of: date | None = None) -> None:
        super().__init__(message)
        self.field = field
        #: With ``future``: the day the figures were read, which the page names.
        self.as_of = as_of


@dataclass(frozen=True)
class Filters:
    """What to count; None keeps every case."""

    election: str | None = None
    region: str | None = None
    agency: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def as_dict(self) -> dict[str, Any]:
        """The filters as JSON-ready values (None where not set)."""
        return {
            "election": self.election,
            "region": self.region,
            "agency": self.agency,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
        }


def parse_filters(values: dict[str, str | None]) -> Filters:
    """Filters from text (``election``, ``region``, ``agency``, ``from``, ``to``); empty is unset.

    Raises:
        FilterError: a value of the wrong shape, or a range that ends before it starts; the
            message names the value and the expected form, never echoing more than needed.
    """
    election = (values.get("election") or "").strip() or None
    if election is not None and not is_election(election):
        raise FilterError(f"election must be {ELECTION_FORM}", "election")
    agency = _identifier(values.get("agency"), "agency", "ppk.3374")
    region = (values.get("region") or "").strip() or None
    if region is not None and not REGION_CODE.match(region):
        raise FilterError("region must be a Kemendagri code such as 33 or 3374", "region")
    date_from = _day(values.get("from"), "from")
    date_to = _day(values.get("to"), "to")
    if date_from and date_to and date_to < date_from:
        raise FilterError(
            "the range ends before it starts: 'to' must not be before 'from'", "range"
        )
    return Filters(election, region, agency, date_from, date_to)


def check_started(filters: Filters, as_of: date) -> None:
    """Refuse a range that starts after ``as_of``, the Jakarta day the store was read.

    No case can be reported or proven on a day still to come: its figures would be zeros that
    read like a finding.

    Raises:
        FilterError: ``from`` is after ``as_of`` (field ``future``); the message gives the day.
    """
    if filters.date_from is not None and filters.date_from > as_of:
        raise FilterError(
            f"the range starts after {as_of.isoformat()}, the day the figures were read (WIB): "
            "no case can be in it yet; give a 'from' on or before that day",
            "future",
            as_of,
        )


def matches_place(case: CaseFacts, filters: Filters) -> bool:
    """Whether the case is of the filters' election, region (or one within it) and agency."""
    outcome = case.outcome
    return (
        (filters.election is None or outcome.election == filters.election)
        and (filters.agency is None or outcome.institution == filters.agency)
        and (filters.region is None or _within(outcome.region, filters.region))
    )


def in_range(day: date, filters: Filters) -> bool:
    """Whether ``day`` lies in the filters' range (inclusive at both ends)."""
    return (filters.date_from is None or filters.date_from <= day) and (
        filters.date_to is None or day <= filters.date_to
    )


def reported_cases(cases: list[CaseFacts], filters: Filters) -> list[CaseFacts]:
    """The cases of the filters' place that were reported in its range."""
    return [
        case
        for case in cases
        if matches_place(case, filters)
        and "received" in case.times
        and in_range(jakarta_day(case.times["received"]), filters)
    ]


def _within(region: str, wanted: str) -> bool:
    return region.replace(".", "").startswith(wanted.replace(".", ""))


def _identifier(value: str | None, name: str, example: str) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if not IDENTIFIER.match(text):
        raise FilterError(f"{name} must be an id in lower case such as {example}", name)
    return text


def _day(value: str | None, name: str) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    day = calendar_day(text)
    if day is None:
        raise FilterError(f"{name} must be a day as YYYY-MM-DD, such as 2024-11-27", name)
    return day
