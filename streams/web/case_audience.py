"""Who sees which cases on the hub's pages and trails: their parties, operators, or everyone.

A case's row (agency, region, status) and its timeline hold no personal data, but they tell
that case's outcome, which the public statistics withhold below K (docs/dashboard.md). So a
reader without a credential sees cases only where ``KAWAL_PUBLIC_CASES`` says every case's
status may be public (the demo's invented cases); otherwise the statistics alone. An operator
sees every case, an institution the cases it is party to (as the trail view decides): a
ministry only the cases whose deadlines were breached (:mod:`streams.domain.parties`).
"""

from __future__ import annotations

from collections.abc import Mapping

from streams.domain.institutions import Institution
from streams.domain.parties import CaseParties, case_roles
from streams.domain.principals import AccessProblem, AccessRefusal, Principal
from streams.web.render import CaseRow

#: The audience of a reader shown every case.
EVERY_CASE = "*"
#: The audience of a reader shown no case.
NO_CASE = ""

#: A case read without a credential on a hub whose cases are not public.
CASES_NEED_CREDENTIAL = AccessRefusal(
    AccessProblem.AUTHENTICATION_REQUIRED,
    "a case is shown to the institutions party to it and to the hub's operators: send "
    "'Authorization: Bearer <token>' (kawal token issue INSTITUTION)",
)


def audience(reader: Principal | None, public_cases: bool) -> str:
    """Whose cases ``reader`` sees: :data:`EVERY_CASE`, an institution id, or :data:`NO_CASE`."""
    if public_cases:
        return EVERY_CASE
    if reader is None:
        return NO_CASE
    return reader.institution or EVERY_CASE


def refusal_without_credential(
    reader: Principal | None, public_cases: bool
) -> AccessRefusal | None:
    """Why ``reader`` may not read one case's timeline, if it may not even ask (no credential)."""
    return CASES_NEED_CREDENTIAL if audience(reader, public_cases) == NO_CASE else None


def cases_for(
    rows: list[CaseRow],
    seen_by: str,
    parties: Mapping[str, CaseParties],
    institutions: Mapping[str, Institution],
) -> list[CaseRow]:
    """The rows the audience ``seen_by`` may see.

    An institution sees the rows of cases it is party to; a case whose lifecycle another worker
    holds (no parties known here) is not listed for it.
    """
    if seen_by == EVERY_CASE:
        return rows
    institution = institutions.get(seen_by)
    if institution is None:
        return []
    return [
        row
        for row in rows
        if row.case_id in parties and case_roles(institution, parties[row.case_id]) is not None
    ]
