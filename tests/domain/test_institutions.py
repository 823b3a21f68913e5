"""The institution registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.domain.institutions import RegistryError, load_institutions
from tests.national import NATIONAL_REGISTRY


def test_bundled_registry_has_every_role() -> None:
    roles = {inst.role for inst in load_institutions()}

    assert roles >= {"election_supervisor", "recommending_authority", "personnel_agency", "ppk"}


def test_registry_entry_without_role_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "institutions.toml"
    path.write_text('[[institution]]\nid = "bawaslu"\n')

    with pytest.raises(RegistryError, match="lacks 'role'"):
        load_institutions(path)


def test_a_role_no_event_knows_is_refused_naming_the_roles(tmp_path: Path) -> None:
    # Before, a typo was taken: the institution's every event was then refused as
    # unauthorized_sender, and its tokens were issued as if nothing were wrong.
    path = tmp_path / "institutions.toml"
    path.write_text('[[institution]]\nid = "inspektorat.3202"\nrole = "regional_inspektorate"\n')

    with pytest.raises(RegistryError) as refused:
        load_institutions(path)

    said = str(refused.value)
    assert said.startswith("institution entry #1 (inspektorat.3202) has role ")
    assert "ppk, regional_inspectorate, appeals_body" in said
    assert said.endswith("; did you mean 'regional_inspectorate'?")


def test_an_id_listed_twice_is_named(tmp_path: Path) -> None:
    path = tmp_path / "institutions.toml"
    entry = '[[institution]]\nid = "ppk.3375"\nrole = "ppk"\nname = "PPK"\n'
    path.write_text(entry * 2 + entry.replace("3375", "3376"))

    with pytest.raises(RegistryError, match=r"lists ppk\.3375 twice; ids must be unique"):
        load_institutions(path)


@pytest.mark.parametrize("bad", ["", "ppk 3374", "ppk/3374", "bkn:sdm", "a" * 201, "kantor-é"])
def test_an_id_that_cannot_name_a_topic_is_refused(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "institutions.toml"
    path.write_text(f'[[institution]]\nid = "{bad}"\nrole = "ppk"\n', encoding="utf-8")

    with pytest.raises(RegistryError, match=r"entry #1: id .* is not 1 to 200 letters"):
        load_institutions(path)


def test_the_longest_id_names_topics_kafka_accepts(tmp_path: Path) -> None:
    path = tmp_path / "institutions.toml"
    longest = "ppk." + "9" * 196
    path.write_text(f'[[institution]]\nid = "{longest}"\nrole = "ppk"\nname = "PPK"\n')

    (institution,) = load_institutions(path)
    assert len(f"kawal.outbound.{institution.id}") <= 249


@pytest.mark.parametrize("name", ["", 'name = ""\n', 'name = "  "\n'])
def test_an_entry_without_a_name_is_refused_saying_what_to_add(tmp_path: Path, name: str) -> None:
    # Before, the id stood in for the name on the pages and in listings.
    path = tmp_path / "institutions.toml"
    path.write_text(f'[[institution]]\nid = "ppk.3375"\nrole = "ppk"\n{name}')

    with pytest.raises(RegistryError) as refused:
        load_institutions(path)

    assert str(refused.value) == (
        'institution entry #1 (ppk.3375) has no name; add name = "..." (its display name, '
        "shown on the pages and in listings)"
    )


@pytest.mark.parametrize(
    "bad", ["inspektorat.", "inspektorat.semarang", "inspektorat.337", "inspektorat.337401"]
)
def test_an_inspectorate_whose_id_names_no_region_is_refused(tmp_path: Path, bad: str) -> None:
    # Before, it was taken, and no case was ever its region's: its every event was refused.
    path = tmp_path / "institutions.toml"
    path.write_text(
        f'[[institution]]\nid = "{bad}"\nrole = "regional_inspectorate"\nname = "Inspektorat"\n'
    )

    with pytest.raises(RegistryError) as refused:
        load_institutions(path)

    said = str(refused.value)
    assert said.startswith(f"institution entry #1 ({bad}) names no region; ")
    assert said.endswith("such as inspektorat.3374: add its region's code")


def test_the_registries_shipped_and_tested_name_every_entry_and_inspectorate_region() -> None:
    shipped, national = load_institutions(), load_institutions(NATIONAL_REGISTRY)

    for registry in (shipped, national):
        assert all(institution.name.strip() for institution in registry)
    assert "inspektorat.3374" in {institution.id for institution in shipped}
    assert {"inspektorat.11", "inspektorat.1101"} <= {institution.id for institution in national}
