"""The national registry: every institution a case may pass through, built from lists of regions.

Indonesia's registry is regular: Bawaslu RI, a Bawaslu office in each province and each regency
or city, a PPK (the regional government) and an inspectorate for each region, the central
agencies' PPKs, KASN, BKN, BPASN, the two ministries that oversee follow-up
(KemenPAN-RB, Kemendagri) and the hub. So it is built, not typed: from the regions
(Kemendagri codes and names) and the central agencies, each a CSV file.

Lanes (:class:`streams.domain.institutions.InboundLane`): Bawaslu RI, the provincial offices
and the national bodies publish on topics of their own (they carry the volume and import
backlogs); the 1,700-odd regency offices, PPKs and inspectorates share ``kawal.inbound``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from schemas.errors import KawalError
from schemas.field_formats import is_number
from streams.domain.institutions import HUB_INSTITUTION, InboundLane, Institution

#: The national bodies, each with its own topic.
NATIONAL_BODIES = (
    Institution("bawaslu", "election_supervisor", "Bawaslu RI"),
    Institution(
        "kasn", "recommending_authority", "Komisi Aparatur Sipil Negara (until its dissolution)"
    ),
    Institution("bkn", "personnel_agency", "Badan Kepegawaian Negara"),
    Institution("bpasn", "appeals_body", "Badan Pertimbangan ASN"),
    Institution(
        "kemenpanrb",
        "ministry",
        "Kementerian Pendayagunaan Aparatur Negara dan Reformasi Birokrasi",
    ),
    Institution("kemendagri", "ministry", "Kementerian Dalam Negeri"),
    Institution(HUB_INSTITUTION, "hub", "Kawal hub"),
)


class NationalRegistryError(KawalError):
    """A list of regions or agencies cannot be read or is inconsistent."""


@dataclass(frozen=True)
class Region:
    """A province (two-digit code) or a regency or city (four digits, its province's first)."""

    code: str
    name: str

    @property
    def is_province(self) -> bool:
        """Whether this is a province."""
        return len(self.code) == 2


@dataclass(frozen=True)
class Agency:
    """A central agency whose PPK is party to its officials' cases: ``ppk.<key>``."""

    key: str
    name: str


def read_regions(path: Path) -> list[Region]:
    """Regions from a CSV file with the columns ``code`` and ``name``.

    Raises:
        NationalRegistryError: the file is unreadable, a code is not 2 or 4 digits, a code
            repeats, or a regency's province is not listed.
    """
    regions = [Region(row["code"].strip(), row["name"].strip()) for row in _rows(path, "code")]
    codes = [region.code for region in regions]
    for number, code in enumerate(codes, start=2):
        if not is_number(code) or len(code) not in (2, 4):
            raise NationalRegistryError(
                f"{path} line {number}: region code {code!r} is not a Kemendagri code of a "
                "province (2 digits) or a regency or city (4 digits)"
            )
    first_line: dict[str, int] = {}
    for number, code in enumerate(codes, start=2):
        if code in first_line:
            raise NationalRegistryError(
                f"{path} line {number}: region code {code} is listed on line "
                f"{first_line[code]} already; codes must be unique: keep one of the two lines"
            )
        first_line[code] = number
    provinces = {code for code in codes if len(code) == 2}
    if orphans := sorted(code for code in codes if len(code) == 4 and code[:2] not in provinces):
        raise NationalRegistryError(
            f"{path}: regencies {orphans[:5]} have no province in the file; add their provinces"
        )
    return regions


def read_agencies(path: Path) -> list[Agency]:
    """Central agencies from a CSV file with the columns ``key`` and ``name``.

    Raises:
        NationalRegistryError: the file is unreadable or a key is not a topic-name suffix.
    """
    agencies = [Agency(row["key"].strip(), row["name"].strip()) for row in _rows(path, "key")]
    for agency in agencies:
        if not agency.key.replace("-", "").replace("_", "").isalnum():
            raise NationalRegistryError(
                f"{path}: agency key {agency.key!r} may hold only letters, digits, '-' and '_'"
            )
    return agencies


def national_registry(regions: Iterable[Region], agencies: Iterable[Agency]) -> list[Institution]:
    """Every institution of the registry, national bodies first, then region by region."""
    shared = InboundLane.SHARED
    found = list(NATIONAL_BODIES)
    for region in regions:
        office_lane = InboundLane.OWN if region.is_province else shared
        found += [
            Institution(
                f"bawaslu.{region.code}",
                "election_supervisor",
                f"Bawaslu {region.name}",
                office_lane,
            ),
            Institution(f"ppk.{region.code}", "ppk", f"PPK Pemerintah {region.name}", shared),
            Institution(
                f"inspektorat.{region.code}",
                "regional_inspectorate",
                f"Inspektorat {region.name}",
                shared,
            ),
        ]
    found += [Institution(f"ppk.{a.key}", "ppk", f"PPK {a.name}", shared) for a in agencies]
    return found


def registry_toml(institutions: Iterable[Institution], source: str) -> str:
    """The registry as the text of an ``institutions.toml``, saying what it was built from."""
    lines = [
        f"# Built by `kawal registry build` from {source}; build it again rather than edit it.",
        '# Lanes: inbound = "shared" publishes on kawal.inbound (docs/scale.md).',
    ]
    for institution in institutions:
        lines += ["", "[[institution]]", f"id = {_quoted(institution.id)}"]
        lines += [f"role = {_quoted(institution.role)}", f"name = {_quoted(institution.name)}"]
        if institution.inbound is not InboundLane.OWN:
            lines.append(f"inbound = {_quoted(institution.inbound.value)}")
    return "\n".join(lines) + "\n"


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _rows(path: Path, key: str) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise NationalRegistryError(f"cannot read {path}: {exc}") from exc
    if rows and (key not in rows[0] or "name" not in rows[0]):
        raise NationalRegistryError(f"{path} needs the columns {key} and name, in a header row")
    return rows
