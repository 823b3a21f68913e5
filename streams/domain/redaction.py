"""The redaction policy: which roles may see which personal data.

The sender commits every personal-data field before signing (:mod:`streams.domain.commitments`)
and the values travel beside the entry as disclosures. An institution receives only the
disclosures its role entitles it to; the entry's hash and the sender's signature cover the
committed bytes, so the full and every redacted view verify alike.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Roles that may see a personal-data field, for the fields that are stricter than the default.
#: The reporter must be safe from retaliation by the reported official's superiors (the PPK).
ENTITLED_ROLES: dict[str, frozenset[str]] = {
    "reporter_identity": frozenset({"election_supervisor", "recommending_authority"}),
}

#: Roles that may see any other personal-data field of a case they are party to.
DEFAULT_ENTITLED_ROLES = frozenset(
    {
        "election_supervisor",
        "recommending_authority",
        "personnel_agency",
        "ppk",
        "regional_inspectorate",
        "appeals_body",
    }
)


def entitled(field: str, roles: Iterable[str]) -> bool:
    """Whether an institution acting in ``roles`` may see ``field``."""
    return bool(set(roles) & ENTITLED_ROLES.get(field, DEFAULT_ENTITLED_ROLES))
