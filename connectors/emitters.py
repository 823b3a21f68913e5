"""Which event types an institution may send, checked by its connector before it signs one.

The hub refuses an event whose type none of its sender's roles emits (``unauthorized_sender``,
:func:`streams.domain.authorization.authorize`), and the sender hears of it only from a
rejection receipt on its feed. The runtime applies the same rule
(:func:`streams.domain.authorization.emitter_refusal`) to the roles the institution can ever
act in, from the registry and the authority map in force, and dead-letters such a record at
once with a reason that says what to change. Whether the institution may send the event for
*this* case (the case's authority on the event's date, a PPK's own employee, an inspectorate's
region) stays the hub's to decide: only it holds the case.

Example:
    >>> from schemas.catalog import default_catalog
    >>> from streams.settings import Settings
    >>> ppk = emitter_of("ppk.3374", Settings())
    >>> ppk is not None and ppk.refusal(default_catalog(), "SanctionImposed") is None
    True
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.catalog import SchemaCatalog
from streams.domain.authority import load_authority_map
from streams.domain.authorization import emitter_refusal, roles_ever_held
from streams.domain.institutions import Institution, load_institutions
from streams.settings import Settings


@dataclass(frozen=True)
class Emitter:
    """An institution as the hub authorizes its events: its entry and every role it holds."""

    institution: Institution
    roles: frozenset[str]

    def refusal(self, catalog: SchemaCatalog, event_type: str) -> str | None:
        """Why the hub would refuse every ``event_type`` of the institution, or None.

        The reason names the event type, the institution and its roles, never a value of the
        event.
        """
        rejection = emitter_refusal(catalog, self.institution, self.roles, event_type)
        if rejection is None:
            return None
        return (
            f"{rejection.detail}: the hub would refuse it (unauthorized_sender); map the record "
            f"to an event type these roles emit (docs/events.md), or, if "
            f"{self.institution.id} does act in one of those roles, have the hub's operators "
            "register it in that role (KAWAL_INSTITUTIONS_FILE, or the authority map for the "
            "recommending authority)"
        )


def emitter_of(institution_id: str, settings: Settings) -> Emitter | None:
    """The institution as the registry and authority map of ``settings`` give it; None if absent.

    An institution the registry does not list is refused by the hub whatever it sends.

    Raises:
        streams.domain.institutions.RegistryError: the registry cannot be read.
        streams.domain.authority.AuthorityMapError: the authority map cannot be read.
    """
    for institution in load_institutions(settings.institutions_file):
        if institution.id == institution_id:
            authorities = load_authority_map(settings.authority_file).authorities
            return Emitter(institution, roles_ever_held(institution, authorities))
    return None
