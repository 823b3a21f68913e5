"""The time zone of a region: what a reader in that region calls "now".

Deadlines are counted in the region's working days, and a case's page shows its times in the
zone of the region where the violation happened (WIB, WITA or WIT), from the provinces table
``data/provinces.toml``. A region code is Kemendagri's: its first two digits are the province.
A case with no region (a national institution's view) is shown in Jakarta time, the zone of the
national institutions.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from schemas.errors import KawalError
from schemas.field_formats import REGION_CODE_FORM, is_region_code
from streams.domain.data_files import read_toml

#: The legal zones (Keppres 41/1987) and their IANA names.
ZONES: dict[str, ZoneInfo] = {
    "WIB": ZoneInfo("Asia/Jakarta"),
    "WITA": ZoneInfo("Asia/Makassar"),
    "WIT": ZoneInfo("Asia/Jayapura"),
}
#: The zone of a view with no region: the national institutions sit in Jakarta.
NATIONAL = "WIB"


class RegionError(KawalError):
    """A region code names no province, or the provinces table cannot be read."""


@dataclass(frozen=True)
class Province:
    """A province: its Kemendagri code, name and legal time zone (``WIB``/``WITA``/``WIT``)."""

    code: str
    name: str
    zone: str


@cache
def provinces() -> dict[str, Province]:
    """The bundled provinces table, by two-digit code.

    Raises:
        RegionError: the table is missing, not TOML, or a row is incomplete.
    """
    try:
        rows = read_toml(None, "provinces.toml").get("province", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RegionError(
            f"cannot read the provinces table: {exc}; restore streams/data/provinces.toml"
        ) from exc
    return {code: _province(code, row) for code, row in rows.items()}


def province_of(region_code: str) -> Province:
    """The province a Kemendagri region code belongs to.

    Raises:
        RegionError: the code is not a Kemendagri code, or its first two digits name no
            province. The message never quotes the code: what was written in its place may
            be anything, a name or a telephone number included.
    """
    if not is_region_code(region_code):
        raise RegionError(f"the region code is not a Kemendagri code: {REGION_CODE_FORM}")
    found = provinces().get(region_code[:2])
    if found is None:
        raise RegionError(
            "the region code names no province: its first two digits are no province's "
            "Kemendagri code"
        )
    return found


def zone_abbreviation(region_code: str | None) -> str:
    """``WIB``, ``WITA`` or ``WIT`` for a region; ``WIB`` when there is no region."""
    return NATIONAL if region_code is None else province_of(region_code).zone


def zone_of(region_code: str | None) -> ZoneInfo:
    """The IANA zone of a region (Jakarta time when there is no region).

    Raises:
        RegionError: the code names no province.
    """
    return ZONES[zone_abbreviation(region_code)]


def _province(code: str, row: Any) -> Province:
    if (
        not (isinstance(row, dict) and len(code) == 2 and is_region_code(code))
        or not isinstance(row.get("name"), str)
        or row.get("zone") not in ZONES
    ):
        raise RegionError(
            f"provinces.toml: [province.{code!r}] needs a two-digit code, a name and a zone "
            f"among {', '.join(ZONES)}"
        )
    return Province(code, row["name"], row["zone"])
