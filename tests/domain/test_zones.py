"""The zone of a region, from the provinces table."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from schemas.field_formats import REGION_CODE_FORM
from streams.domain.zones import RegionError, province_of, provinces, zone_abbreviation, zone_of


def test_all_38_provinces_with_their_legal_zone() -> None:
    table = provinces()

    assert len(table) == 38
    assert {p.zone for p in table.values()} == {"WIB", "WITA", "WIT"}
    assert [c for c, p in table.items() if p.zone == "WIT"] == [
        "81", "82", "91", "92", "93", "94", "95", "96"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("region", "zone"),
    [("33", "WIB"), ("3374", "WIB"), ("6171", "WIB"), ("5171", "WITA"), ("7371", "WITA"),
     ("9171", "WIT"), (None, "WIB")],
)  # fmt: skip
def test_a_region_is_in_its_province_zone(region: str | None, zone: str) -> None:
    assert zone_abbreviation(region) == zone


def test_zone_names_are_iana() -> None:
    assert zone_of("51") == ZoneInfo("Asia/Makassar")
    assert province_of("3374").name == "Jawa Tengah"


@pytest.mark.parametrize("region", ["99", "9971", "00"])
def test_a_code_no_province_has_is_refused_clearly(region: str) -> None:
    with pytest.raises(RegionError, match="the region code names no province") as refused:
        zone_of(region)

    assert region not in str(refused.value)


@pytest.mark.parametrize(
    "region",
    # The last two: Arabic-Indic and fullwidth digits.
    ["", "x1", "3", "337", "33741", " 3374", "3374\n", "Budi", "33\u0667\u0664", "\uff13\uff13"],
)
def test_what_is_no_region_code_is_refused_without_being_quoted(region: str) -> None:
    with pytest.raises(RegionError) as refused:
        province_of(region)

    # The same words whatever was written: nothing of it is quoted.
    assert str(refused.value) == f"the region code is not a Kemendagri code: {REGION_CODE_FORM}"


@pytest.mark.parametrize("region", ["33", "3374", "337401", "3374011001"])
def test_every_level_of_a_kemendagri_code_has_its_province(region: str) -> None:
    assert province_of(region).name == "Jawa Tengah"
