"""Fixtures of the vault tests: a vault database of each dialect, a KEK ring, vaults on it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from streams.vault.data_keys import DataKeyVault
from streams.vault.kek import KekRing, KeyWrapper, new_kek

#: Opens a migrated vault on the test's database with the ring given: another process's view.
OpenVault = Callable[[KeyWrapper], DataKeyVault]


@pytest.fixture(params=["sqlite", "postgresql"])
def vault_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, empty database of each dialect."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vault.db'}"
    server = request.getfixturevalue("postgres")
    return str(server.create_database(f"vault_{uuid.uuid4().hex[:12]}"))


@pytest.fixture
def ring() -> KekRing:
    """A ring of one fresh KEK."""
    return KekRing([new_kek()])


@pytest.fixture
def open_vault(vault_url: str) -> Iterator[OpenVault]:
    """Open as many vaults on ``vault_url`` as a test needs; all closed after it."""
    opened: list[DataKeyVault] = []

    def open_one(ring: KeyWrapper) -> DataKeyVault:
        vault = DataKeyVault(vault_url, ring)
        vault.create_schema()
        opened.append(vault)
        return vault

    yield open_one
    for vault in opened:
        vault.close()


@pytest.fixture
def vault(open_vault: OpenVault, ring: KekRing) -> DataKeyVault:
    """A migrated vault of each dialect, wrapping under ``ring``."""
    return open_vault(ring)
