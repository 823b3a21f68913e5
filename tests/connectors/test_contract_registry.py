"""The contract suite serves any institution of the integrator's registry, and names the others."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.contract_registry import (
    UnregisteredInstitutionError,
    contract_institutions,
    require_registered,
)
from connectors.signed_fixtures import signed_entry
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from schemas.envelope import envelope
from schemas.identity import case_id_for
from streams.settings import Settings

BOGOR = "inspektorat.3201"


def _own_registry(tmp_path: Path) -> Settings:
    """An integrator's registry holding its new inspectorate alone."""
    registry = tmp_path / "institutions.toml"
    registry.write_text(
        f'[[institution]]\nid = "{BOGOR}"\nrole = "regional_inspectorate"\nname = "Bogor"\n'
    )
    return Settings(institutions_file=registry)


def test_the_registry_in_force_comes_first_and_the_bundled_ones_too(tmp_path: Path) -> None:
    ids = [institution.id for institution in contract_institutions(_own_registry(tmp_path))]

    assert ids[0] == BOGOR
    assert "bawaslu.33" in ids  # the suite's own feed examples are sent by it
    assert len(ids) == len(set(ids))
    require_registered(BOGOR, _own_registry(tmp_path))


def test_an_institution_in_no_registry_is_refused_saying_how_to_register_it() -> None:
    with pytest.raises(UnregisteredInstitutionError) as refused:
        require_registered(BOGOR, Settings(institutions_file=None))

    said = str(refused.value)
    assert f"institution '{BOGOR}' is in no institutions registry the contract suite reads" in said
    assert "KAWAL_INSTITUTIONS_FILE is not set" in said
    assert "did you mean 'inspektorat.3374'?" in said
    assert "run the tests with KAWAL_INSTITUTIONS_FILE naming that file" in said
    assert "key" not in said


def test_an_entry_from_an_unregistered_sender_is_refused_as_such_not_for_its_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KAWAL_INSTITUTIONS_FILE", raising=False)
    codec = AvroCodec(default_catalog())
    record = {
        "envelope": envelope(
            event_id="8030f7d2-9fce-59bd-8bf7-b44d5f717667",
            case_id=case_id_for(BOGOR, "LHP/1/2024"),
            event_type="ExaminationHeld",
            event_time=datetime(2024, 11, 4, 9, 0, tzinfo=UTC),
            source=BOGOR,
            actor_ref="actor:test",
        ),
    }

    with pytest.raises(UnregisteredInstitutionError, match="in no institutions registry"):
        signed_entry(codec, "ExaminationHeld", record, 1, "0" * 64)
