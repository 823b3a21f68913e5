"""The names the public figures show beside the codes of agencies and regions.

A journalist reading ``ppk.3374`` or ``3374`` in a table learns nothing; the registry the hub
already runs on names both. An agency is named by its institution's entry in the registry in
force (``KAWAL_INSTITUTIONS_FILE``, else ``streams/data/institutions.toml``). A province is named
by ``streams/data/provinces.toml``; a regency or city by the registry's inspectorate of it, whose
name ``kawal registry build`` makes ``Inspektorat <region name>`` (the hub keeps no regency
list of its own). A code the hub has no name for (a report naming a PPK not yet registered, a
regency without a registered inspectorate) is shown with the words of :data:`UNKNOWN`, never
refused: the figures count it all the same.

Names are the same in every language (they are proper names); only the words for an unknown
one are translated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from streams.domain.institutions import Institution
from streams.domain.zones import provinces

#: What a table says of a code the hub has no name for, by kind and language.
UNKNOWN: dict[str, dict[str, str]] = {
    "agency": {"id": "instansi tidak dikenal", "en": "unknown agency"},
    "region": {"id": "wilayah tidak dikenal", "en": "unknown region"},
}
#: How ``kawal registry build`` names a region's inspectorate, before the region's name.
INSPECTORATE_NAME_PREFIX = "Inspektorat "
INSPECTORATE_ID_PREFIX = "inspektorat."


@dataclass(frozen=True)
class PublicNames:
    """Agency id -> name and region code -> name, as the public tables show them."""

    agencies: Mapping[str, str] = field(default_factory=dict)
    regions: Mapping[str, str] = field(default_factory=dict)

    def agency(self, code: str | None) -> str | None:
        """The agency's name, or None for no code or a code the registry does not name."""
        return self.agencies.get(code) if code else None

    def region(self, code: str | None) -> str | None:
        """The region's name, or None for no code or a code the hub has no name for."""
        return self.regions.get(code) if code else None


def public_names(institutions: Iterable[Institution]) -> PublicNames:
    """The names of ``institutions`` (the registry in force) and of the regions they name.

    Raises:
        RegionError: the bundled provinces table cannot be read (a broken install).
    """
    found = list(institutions)
    agencies = {institution.id: institution.name for institution in found if institution.name}
    regions = {
        institution.id.removeprefix(INSPECTORATE_ID_PREFIX): institution.name.removeprefix(
            INSPECTORATE_NAME_PREFIX
        )
        for institution in found
        if institution.id.startswith(INSPECTORATE_ID_PREFIX)
        and institution.name.startswith(INSPECTORATE_NAME_PREFIX)
    }
    # The provinces table is the authority on a province's name; an inspectorate's entry may
    # say "Provinsi ..." or be missing.
    regions |= {code: province.name for code, province in provinces().items()}
    return PublicNames(agencies, regions)
