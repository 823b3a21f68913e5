"""The registry of institutions connected to the hub, kept as data (``data/institutions.toml``)."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import get_close_matches
from enum import StrEnum
from functools import cache
from pathlib import Path

from schemas.catalog import SchemaCatalog, default_catalog
from schemas.errors import KawalError
from streams.domain.data_files import read_toml

#: The hub's own principal: it signs receipts, entries, tree heads and deadline events.
HUB_INSTITUTION = "kawal"


class RegistryError(KawalError):
    """The institutions registry cannot be read or is inconsistent."""


class InboundLane(StrEnum):
    """Where an institution publishes.

    ``own``: its own topic ``kawal.inbound.<id>``, which the broker lets it alone write: its
    topic names the sender, and a backlog it imports queues behind nobody else's events.
    ``shared``: the one topic ``kawal.inbound`` of the many institutions that publish little
    (regency offices, PPKs, inspectorates); the event's signature names its sender. A national
    registry of about 1,800 institutions then needs a few dozen inbound topics, not 1,800.
    """

    OWN = "own"
    SHARED = "shared"


#: Longest institution id: ``kawal.outbound.`` and the id stay within Kafka's 249 characters
#: for a topic name, and the audit store's 255 for the topic an entry came from.
MAX_ID_LENGTH = 200
#: What an id may hold: the characters Kafka allows in a topic name.
INSTITUTION_ID = re.compile(rf"[A-Za-z0-9._-]{{1,{MAX_ID_LENGTH}}}")
#: Prefix of a regional inspectorate's id; the rest is the Kemendagri code of its region.
INSPECTORATE_PREFIX = "inspektorat."
#: The region of an inspectorate: a province's code (2 digits) or a regency's or city's (4).
INSPECTORATE_REGION = re.compile(r"[0-9]{2}(?:[0-9]{2})?")


@dataclass(frozen=True)
class Institution:
    """One institution: its id (also its feed's suffix), role, display name and inbound lane."""

    id: str
    role: str
    name: str
    inbound: InboundLane = InboundLane.OWN


def load_institutions(path: Path | None = None) -> tuple[Institution, ...]:
    """Load the registry from ``path``, or the bundled default.

    Raises:
        RegistryError: the file is missing, not TOML, or an entry lacks ``id``, ``role`` or
            ``name``, or an inspectorate's id names no region.
    """
    try:
        raw = read_toml(path, "institutions.toml")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegistryError(
            f"cannot read the institutions registry {path or '(bundled)'}: {exc}; "
            "fix the file or unset KAWAL_INSTITUTIONS_FILE"
        ) from exc
    entries = raw.get("institution", [])
    institutions = tuple(_parse(entry, index) for index, entry in enumerate(entries))
    ids = [inst.id for inst in institutions]
    twice = sorted(id_ for id_, times in Counter(ids).items() if times > 1)
    if twice:
        raise RegistryError(
            f"the institutions registry lists {', '.join(twice)} twice; ids must be unique"
        )
    return institutions


def _parse(entry: dict[str, str], index: int) -> Institution:
    try:
        institution = Institution(
            id=entry["id"],
            role=entry["role"],
            name=entry.get("name", ""),
            inbound=_lane(entry.get("inbound", InboundLane.OWN.value), index),
        )
    except KeyError as exc:
        raise RegistryError(
            f"institution entry #{index + 1} lacks {exc.args[0]!r}; every entry needs id and role"
        ) from exc
    if not INSTITUTION_ID.fullmatch(institution.id):
        raise RegistryError(
            f"institution entry #{index + 1}: id {institution.id[:40]!r} is not 1 to "
            f"{MAX_ID_LENGTH} letters, digits, '.', '_' or '-': the id names the institution's "
            "topics, which Kafka allows only those characters"
        )
    roles = _registry_roles()
    if institution.role not in roles:
        raise RegistryError(
            f"institution entry #{index + 1} ({institution.id}) has role "
            f"{institution.role[:40]!r}, which is none of the roles (kawal.InstitutionRole): "
            f"{', '.join(roles)}{resembling(institution.role, roles)}"
        )
    if institution.id == HUB_INSTITUTION and institution.inbound is not InboundLane.OWN:
        raise RegistryError(
            f"the hub ({HUB_INSTITUTION}) publishes on its own topic; remove its inbound entry"
        )
    _check_described(institution, index)
    return institution


def _check_described(institution: Institution, index: int) -> None:
    """Refuse an entry without a name, or an inspectorate's whose id names no region."""
    if not isinstance(institution.name, str) or not institution.name.strip():
        raise RegistryError(
            f"institution entry #{index + 1} ({institution.id}) has no name; add "
            'name = "..." (its display name, shown on the pages and in listings)'
        )
    region = institution.id.removeprefix(INSPECTORATE_PREFIX)
    if region != institution.id and not INSPECTORATE_REGION.fullmatch(region):
        raise RegistryError(
            f"institution entry #{index + 1} ({institution.id}) names no region; an "
            f"inspectorate's id is {INSPECTORATE_PREFIX}<Kemendagri code of its province (2 "
            "digits) or regency or city (4)>, such as inspektorat.3374: add its region's code"
        )


def institution_roles(catalog: SchemaCatalog) -> tuple[str, ...]:
    """The role names (``kawal.InstitutionRole`` symbols, lower case), in the enum's order."""
    symbols = catalog.schema("kawal.InstitutionRole")["symbols"]
    return tuple(symbol.lower() for symbol in symbols if symbol != "UNKNOWN")


@cache
def _registry_roles() -> tuple[str, ...]:
    return institution_roles(default_catalog())


def _lane(value: str, index: int) -> InboundLane:
    try:
        return InboundLane(value)
    except ValueError:
        lanes = " or ".join(repr(lane.value) for lane in InboundLane)
        raise RegistryError(
            f"institution entry #{index + 1} has inbound = {value!r}; it must be {lanes}"
        ) from None


def resembling(given: str, registered: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the registered id ``given`` most resembles, else ``""``.

    For messages about an id that is not registered: a national registry holds some 1,800 ids,
    too many to list.
    """
    known = list(registered)
    same_letters = [id_ for id_ in known if id_.casefold() == given.casefold()]
    close = same_letters or get_close_matches(given, known, n=1, cutoff=0.8)
    return f"; did you mean {close[0]!r}?" if close else ""


def resembling_then(given: str, registered: Iterable[str]) -> str:
    """:func:`resembling`'s hint, then what joins it to the advice after it.

    ``"; did you mean 'x'? If not, "`` or ``": "``, for a message going on with what to do.
    """
    hint = resembling(given, registered)
    return f"{hint} If not, " if hint else ": "
