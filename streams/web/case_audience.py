"""Who sees which cases on the hub's pages and trails: their parties, operators, or everyone.

A case's row (agency, region, status) and its timeline hold no personal data, but they tell
that case's outcome, which the public statistics withhold below K (docs/dashboard.md). So a
reader without a credential sees cases only where ``KAWAL_PUBLIC_CASES`` says every case's
status may be public (the demo's invented cases); otherwise the statistics alone. An operator
sees every case, an institution the cases it is party to (as the trail view decides): a
ministry only the cases whose deadlines were breached (:mod:`streams.domain.parties`).

Whether a case exists is itself kept from those who may not see it: a case id is the UUIDv5
of a reporting institution and its case number, and register numbers run in sequence, so a
404 for an unknown case beside a 403 for another's would let an institution count the reports
of any office. Every case read refuses an institution a case it may not see with
:func:`not_its_case`, alike whether the case exists or not; only a reader who would see the
case if it existed (:func:`told_unknown`) learns that it does not (404 ``no_such_case``).
"""

from __future__ import annotations

from collections.abc import Mapping

from streams.audit.trail import Directory
from streams.domain.institutions import Institution
from streams.domain.parties import CaseParties, case_roles, party_to_every_case
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


def told_unknown(reader: Principal | None, directory: Directory, public_cases: bool) -> bool:
    """Whether ``reader`` may be told that a case does not exist (404), not refused (403).

    Only a reader shown every case that exists: an operator, an institution party to every
    case (:func:`streams.domain.parties.party_to_every_case`), anyone where every case is
    public. To any other, the 404 would tell which ids its 403 is about.
    """
    if public_cases or reader is None or reader.institution is None:
        return True
    institution = directory.institution(reader.institution)
    return institution is not None and party_to_every_case(institution)


def no_case_of_yours(institution: str, directory: Directory) -> str:
    """What ``institution`` is told of a case it may not read, existing or not, in one wording.

    It names neither the case nor whether the store holds it. A case accepted moments ago
    is not stored yet, and its sender, a party to it, polling for it, is told to ask again.
    """
    return (
        f"{institution} has no case with this id: it does not exist, or {institution} is not "
        f"party to it{directory.until_breached(institution)}; a case reported moments ago is "
        "stored within seconds, its sender a party to it: ask again then"
    )


def not_its_case(institution: str, directory: Directory) -> AccessRefusal:
    """The 403 ``not_entitled`` of a case ``institution`` may not read, existing or not."""
    return AccessRefusal(AccessProblem.NOT_ENTITLED, no_case_of_yours(institution, directory))


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
