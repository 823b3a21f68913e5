"""The institution registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.domain.institutions import RegistryError, load_institutions


def test_bundled_registry_has_every_role() -> None:
    roles = {inst.role for inst in load_institutions()}

    assert roles >= {"election_supervisor", "recommending_authority", "personnel_agency", "ppk"}


def test_registry_entry_without_role_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "institutions.toml"
    path.write_text('[[institution]]\nid = "bawaslu"\n')

    with pytest.raises(RegistryError, match="lacks 'role'"):
        load_institutions(path)
