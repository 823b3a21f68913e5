"""The national registry: built from regions and agencies, loadable, with its lanes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from streams.cli import main
from streams.domain.institutions import InboundLane, RegistryError, load_institutions
from streams.domain.national_registry import (
    NationalRegistryError,
    national_registry,
    read_agencies,
    read_regions,
    registry_toml,
)
from streams.domain.zones import provinces
from streams.topics import SHARED_INBOUND, all_topics, inbound_topic_of
from tests.national import NATIONAL_AGENCIES, NATIONAL_REGIONS, NATIONAL_REGISTRY


def test_the_kept_registry_is_what_kawal_registry_build_writes(tmp_path: Path) -> None:
    out = tmp_path / "institutions.toml"

    code = main(
        ["registry", "build", "--regions", str(NATIONAL_REGIONS), "--agencies",
         str(NATIONAL_AGENCIES), "--out", str(out)]
    )  # fmt: skip

    assert code == 0
    assert out.read_text() == NATIONAL_REGISTRY.read_text()


def test_the_national_registry_has_every_body_of_every_region() -> None:
    regions = read_regions(NATIONAL_REGIONS)
    institutions = load_institutions(NATIONAL_REGISTRY)
    province_rows = [r for r in regions if r.is_province]

    assert {r.code for r in province_rows} == set(provinces())
    assert len(regions) - len(province_rows) == 514
    assert len(institutions) == 1_743
    roles = Counter(inst.role for inst in institutions)
    assert roles["election_supervisor"] == 1 + len(regions)
    assert roles["ppk"] == len(regions) + 80
    assert roles["regional_inspectorate"] == len(regions)
    assert {"recommending_authority", "personnel_agency", "appeals_body", "hub"} <= set(roles)
    ministries = {inst.id for inst in institutions if inst.role == "ministry"}
    assert ministries == {"kemenpanrb", "kemendagri"}


def test_only_the_national_and_provincial_bodies_have_topics_of_their_own() -> None:
    institutions = load_institutions(NATIONAL_REGISTRY)
    own = {inst.id for inst in institutions if inst.inbound is InboundLane.OWN}

    national = {"bawaslu", "kasn", "bkn", "bpasn", "kemenpanrb", "kemendagri", "kawal"}
    assert own == national | {f"bawaslu.{code}" for code in provinces()}
    by_id = {inst.id: inst for inst in institutions}
    assert inbound_topic_of(by_id["bawaslu.3301"]) == SHARED_INBOUND
    assert inbound_topic_of(by_id["bawaslu.33"]) == "kawal.inbound.bawaslu.33"
    # Each own-lane body has its inbound topic; everyone has a feed; the shared topic once.
    names = [spec.name for spec in all_topics(institutions, 4)]
    inbound = [n for n in names if n.startswith("kawal.inbound")]
    assert sorted(inbound) == sorted([SHARED_INBOUND] + [f"kawal.inbound.{i}" for i in own])
    assert sum(n.startswith("kawal.outbound.") for n in names) == len(institutions)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("code,name\n33,Jawa Tengah\n333,Bad\n", "not a Kemendagri code"),
        ("code,name\n\u0663\u0663,Jawa Tengah\n", "not a Kemendagri code"),
        ("code,name\n33,Jawa Tengah\n33,Again\n", "line 3: region code 33 is listed on line 2"),
        ("code,name\n3301,Orphan\n", "no province"),
        ("kode,nama\n33,Jawa Tengah\n", "columns code and name"),
    ],
)
def test_a_bad_list_of_regions_is_refused_with_what_to_fix(
    tmp_path: Path, rows: str, message: str
) -> None:
    path = tmp_path / "regions.csv"
    path.write_text(rows)

    with pytest.raises(NationalRegistryError, match=message):
        read_regions(path)


def test_a_bad_agency_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "agencies.csv"
    path.write_text("key,name\nkemen dagri,Kementerian Dalam Negeri\n")

    with pytest.raises(NationalRegistryError, match="only letters"):
        read_agencies(path)


def test_registry_build_says_what_is_wrong_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["registry", "build", "--regions", str(tmp_path / "missing.csv")])

    assert code != 0
    assert "cannot read" in capsys.readouterr().err


def test_names_with_quotes_survive_the_toml(tmp_path: Path) -> None:
    regions = [*read_regions(NATIONAL_REGIONS)[:1]]
    agencies = read_agencies(NATIONAL_AGENCIES)[:1]
    built = national_registry(regions, [type(agencies[0])("x", 'Badan "Kutip" \\ Miring')])
    path = tmp_path / "institutions.toml"
    path.write_text(registry_toml(built, "test"))

    assert load_institutions(path)[-1].name == 'PPK Badan "Kutip" \\ Miring'


def test_an_unknown_lane_and_a_shared_hub_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "institutions.toml"
    path.write_text('[[institution]]\nid = "ppk.1"\nrole = "ppk"\ninbound = "bus"\n')
    with pytest.raises(RegistryError, match="'own' or 'shared'"):
        load_institutions(path)

    path.write_text('[[institution]]\nid = "kawal"\nrole = "hub"\ninbound = "shared"\n')
    with pytest.raises(RegistryError, match="own topic"):
        load_institutions(path)
