"""Identifiers of cases and events.

A case is identified by the first reporting institution and that institution's own case
number, so a retried or re-imported report always maps to the same ``case_id``.

Example:
    >>> case_id_for("bawaslu.3374", "001/LP/PB/Kota/14.00/XI/2024")
    'cbc9a2b3-9c4e-5f74-9873-6743118ee9f4'
"""

import uuid

from schemas.errors import InvalidIdentifierError

#: Namespace of every case_id: uuid5(NAMESPACE_URL, "urn:kawal:case"). Never change it:
#: every case_id ever issued is derived from it.
KAWAL_CASE_NAMESPACE = uuid.UUID("2667678e-0dca-5d83-9062-4919555692a6")


def case_id_for(institution: str, case_number: str) -> str:
    """Returns the case_id (UUIDv5) for a case first reported by ``institution``.

    Args:
        institution: institution id, e.g. ``bawaslu.3374``; must not contain ``:``, which
            separates it from the case number in the hashed name.
        case_number: the institution's own case number, used exactly as given.

    Raises:
        InvalidIdentifierError: a part that is no text (a SQL NULL, a number) or is empty, or
            ``:`` in the institution id.
    """
    for part, value in (("institution id", institution), ("case number", case_number)):
        if not isinstance(value, str):
            # Refused, not hashed as its text: 123 and "123" would give one case id, None another.
            raise InvalidIdentifierError(
                f"cannot derive a case_id from a {part} that is a {type(value).__name__}, "
                "not text; map the system's value to a string (a missing case number is no "
                "case number)"
            )
    if not institution or not case_number or ":" in institution:
        raise InvalidIdentifierError(
            f"cannot derive a case_id from institution {institution!r} and a "
            f"{len(case_number)}-character case number; both must be non-empty and the "
            "institution id must not contain ':'"
        )
    return str(uuid.uuid5(KAWAL_CASE_NAMESPACE, f"{institution}:{case_number}"))


def new_event_id() -> str:
    """Returns a fresh random event_id (UUIDv4)."""
    return str(uuid.uuid4())


def canonical_case_id(text: str) -> str | None:
    """The case id as the hub writes it (lower case, hyphenated) of any spelling of a UUID.

    Another system may show the same UUID in upper case or in braces; the hub keeps and looks
    cases up by the canonical form only. None if ``text`` is no UUID.

    Example:
        >>> canonical_case_id("{CBC9A2B3-9C4E-5F74-9873-6743118EE9F4}")
        'cbc9a2b3-9c4e-5f74-9873-6743118ee9f4'
    """
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None
