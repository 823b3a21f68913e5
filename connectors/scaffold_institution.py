"""Which institution a scaffolded connector speaks for, and which example mapping fits its role.

``kawal connector new NAME --institution ID`` writes ``ID`` into the package's configurations,
README and tests, so it must be an id of the institutions registry the integrator uses (the
registry in force, ``KAWAL_INSTITUTIONS_FILE``, as the hub and ``kawal connector run`` read
it). The inbound example maps each line of the system to an event the institution's roles
emit, by the hub's own rule (:mod:`connectors.emitters`): a report (``ReportReceived``) for
an election supervisor, the personnel agency or an inspectorate, a decree
(``SanctionImposed``) for a PPK. Otherwise its own contract tests would fail as
``unauthorized_sender``.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.emitters import Emitter, emitter_of
from connectors.errors import ConnectorError
from schemas.catalog import default_catalog
from streams.domain.institutions import (
    INSPECTORATE_PREFIX,
    INSTITUTION_ID,
    MAX_ID_LENGTH,
    load_institutions,
    resembling_then,
)
from streams.settings import Settings

#: The institution of a scaffold when none is given: Bawaslu Jawa Tengah, bundled.
DEFAULT_INSTITUTION = "bawaslu.33"
#: The region code of the example reports of an institution that has no region of its own.
DEFAULT_REGION = "3374"


class ScaffoldError(ConnectorError):
    """The connector cannot be created (bad name or institution, directory exists)."""


@dataclass(frozen=True)
class Flavour:
    """One example mapping of the template (``connectors/template/flavours/<name>``)."""

    name: str
    event_type: str
    records: str


#: The example mappings, in the order they are tried against an institution's roles.
FLAVOURS = (
    Flavour("report", "ReportReceived", "reports"),
    Flavour("decree", "SanctionImposed", "decrees"),
)


@dataclass(frozen=True)
class ScaffoldTarget:
    """The institution a scaffold is for, its role, and the example mapping it gets."""

    institution: str
    role: str
    flavour: Flavour

    @property
    def region(self) -> str:
        """The region of its example reports: an inspectorate's own (it acts on no other)."""
        own = self.institution.removeprefix(INSPECTORATE_PREFIX)
        return own if own != self.institution else DEFAULT_REGION


def scaffold_target(institution: str, settings: Settings) -> ScaffoldTarget:
    """The registered ``institution`` and the example mapping its roles emit.

    Raises:
        ScaffoldError: the id is malformed, not in the registry in force, or of a role that
            emits none of the examples' event types.
    """
    emitter = _registered(institution, settings)
    catalog = default_catalog()
    for flavour in FLAVOURS:
        if emitter.refusal(catalog, flavour.event_type) is None:
            return ScaffoldTarget(institution, emitter.institution.role, flavour)
    emitted = [kind for kind in catalog.event_types() if not emitter.refusal(catalog, kind)]
    examples = " or ".join(flavour.event_type for flavour in FLAVOURS)
    raise ScaffoldError(
        f"{institution} ({', '.join(sorted(emitter.roles))}) emits no {examples}, the events "
        f"the scaffold's examples send; its roles emit: {', '.join(emitted) or 'nothing'}. "
        "Start from the reference connector of that role (docs/connectors.md, The reference "
        "connectors), or scaffold for an institution that reports and change the mapping"
    )


def _registered(institution: str, settings: Settings) -> Emitter:
    """The institution as the registry in force gives it.

    Raises:
        ScaffoldError: a malformed id, or one the registry does not list.
    """
    if not INSTITUTION_ID.fullmatch(institution):
        raise ScaffoldError(
            f"--institution {institution[:40]!r} is no institution id: 1 to {MAX_ID_LENGTH} "
            "letters, digits, '.', '_' or '-', as the institutions registry lists it (such as "
            "bawaslu.33 or inspektorat.3201)"
        )
    emitter = emitter_of(institution, settings)
    if emitter is not None:
        return emitter
    registered = [found.id for found in load_institutions(settings.institutions_file)]
    where = settings.institutions_file or "the bundled streams/data/institutions.toml"
    raise ScaffoldError(
        f"--institution {institution!r} is not in the institutions registry ({where})"
        f"{resembling_then(institution, registered)}register it first (docs/connectors.md, A "
        "new institution) and set KAWAL_INSTITUTIONS_FILE to that registry, for this command, the "
        "connector's tests and the hub"
    )
