"""A vault URL that cannot work is one line saying why, never a traceback or its password."""

from __future__ import annotations

import pytest

from streams.vault.database import VaultError, vault_engine


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("bogus://x", "cannot use the vault bogus://x: no database dialect 'bogus'"),
        (
            "postgresql+nodriver://kawal:s3cret@db/kawal",
            "cannot use the vault postgresql+nodriver://kawal:***@db/kawal: no database dialect",
        ),
        ("s3cret-not-a-url", "the vault's URL is not a database URL"),
    ],
)
def test_an_unusable_vault_url_says_why_without_its_password(url: str, said: str) -> None:
    with pytest.raises(VaultError) as refused:
        vault_engine(url)

    assert str(refused.value).startswith(said)
    assert "set KAWAL_VAULT_URL" in str(refused.value)
    assert "s3cret" not in str(refused.value)
