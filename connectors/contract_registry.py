"""Which institutions the connector contract suite makes keys and topics for.

The suite tests a connector of any institution the integrator's registry lists: the registry
in force (``KAWAL_INSTITUTIONS_FILE``, read as the hub and ``kawal connector run`` read it),
so an institution registered there before the hub knows it is tested as it will run. The
bundled institutions come too, whatever that file holds: the suite's own examples and a
connector's feed events name them as senders (``bawaslu.33``, say).

Example:
    >>> ids = [institution.id for institution in contract_institutions()]
    >>> "bawaslu.33" in ids
    True
"""

from __future__ import annotations

from connectors.errors import ConnectorConfigError
from streams.domain.institutions import (
    MAX_ID_LENGTH,
    Institution,
    load_institutions,
    resembling_then,
)
from streams.settings import Settings

#: Where the guide tells how to register an institution.
HOW_TO_REGISTER = 'docs/connectors.md, "A new institution"'


class UnregisteredInstitutionError(ConnectorConfigError):
    """The connector under test speaks for an institution no registry of the suite lists."""


def contract_institutions(settings: Settings | None = None) -> tuple[Institution, ...]:
    """The registry in force, then each bundled institution it does not list.

    Raises:
        streams.domain.institutions.RegistryError: the registry in force cannot be read.
    """
    settings = settings or Settings()
    in_force = load_institutions(settings.institutions_file)
    if settings.institutions_file is None:
        return in_force
    listed = {institution.id for institution in in_force}
    return in_force + tuple(i for i in load_institutions() if i.id not in listed)


def require_registered(institution_id: str, settings: Settings | None = None) -> None:
    """Refuse an institution no registry of the suite lists, saying how to register it.

    Without this, the suite failed on keys (``no private key of ...``) or on a feed topic that
    does not exist, neither of which says what is wrong.

    Raises:
        UnregisteredInstitutionError: ``institution_id`` is in neither the registry in force
            nor the bundled one.
    """
    settings = settings or Settings()
    known = [institution.id for institution in contract_institutions(settings)]
    if institution_id in known:
        return
    where = (
        f"KAWAL_INSTITUTIONS_FILE={settings.institutions_file}, nor the bundled "
        "streams/data/institutions.toml"
        if settings.institutions_file
        else "the bundled streams/data/institutions.toml; KAWAL_INSTITUTIONS_FILE is not set"
    )
    raise UnregisteredInstitutionError(
        f"institution {institution_id[:MAX_ID_LENGTH]!r} is in no institutions registry the "
        f"contract suite reads ({where}){resembling_then(institution_id, known)}register it "
        f"({HOW_TO_REGISTER}: an [[institution]] table with its id, role and name in a copy of "
        "streams/data/institutions.toml) and run the tests with KAWAL_INSTITUTIONS_FILE naming "
        "that file, the registry the hub and `kawal connector run` read"
    )
