"""``kawal up`` says so when the vault file is gone while the audit store keeps values."""

from __future__ import annotations

from pathlib import Path

from streams.local.lost_vault import lost_vault_warning
from streams.settings import Settings
from tests.audit.test_kept_values import setup as store_with_kept_values


def test_a_missing_vault_beside_kept_values_is_named_with_what_to_do(tmp_path: Path) -> None:
    _, store, vault, _ = store_with_kept_values(tmp_path)
    settings = Settings(home=tmp_path, audit_db_url=f"sqlite:///{tmp_path / 'audit.db'}")
    assert lost_vault_warning(settings) is None, "the vault is there"
    store.close()
    vault.close()
    for path in tmp_path.glob("vault.db*"):
        path.unlink()

    warning = lost_vault_warning(settings)

    assert warning is not None
    assert "no data-key vault at" in warning
    assert "(KAWAL_VAULT_URL)" in warning
    assert "personal values of 1 cases" in warning
    assert "restore vault.db from its backup" in warning


def test_a_new_home_has_nothing_to_warn_of(tmp_path: Path) -> None:
    assert lost_vault_warning(Settings(home=tmp_path)) is None
