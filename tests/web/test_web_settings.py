"""The HTTP server's TLS and OIDC settings: a half-made configuration stops the hub at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.app import ConfigurationError, create_authenticator
from streams.audit.store import AuditStore
from streams.settings import Settings
from streams.web.server_tls import CertificateSettingsError, server_tls_context
from tests.web.identity import self_signed_certificate


def test_tls_needs_both_files_and_loads_them(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)

    assert server_tls_context(None, None) is None
    assert server_tls_context(cert, key)
    with pytest.raises(CertificateSettingsError, match="both KAWAL_WEB_TLS_CERT and KAWAL_WEB_"):
        server_tls_context(cert, None)
    with pytest.raises(CertificateSettingsError, match="cannot load"):
        server_tls_context(key, cert)


def test_an_oidc_issuer_needs_its_audience_and_key_set(tmp_path: Path) -> None:
    store = AuditStore(f"sqlite:///{tmp_path / 'audit.db'}")
    settings = Settings(home=tmp_path, oidc_issuer="https://sso.example.go.id")

    with pytest.raises(ConfigurationError, match="KAWAL_OIDC_AUDIENCE and KAWAL_OIDC_JWKS_URL"):
        create_authenticator(settings, store, ["bkn"])
    assert create_authenticator(Settings(home=tmp_path), store, ["bkn"]).oidc is None


@pytest.mark.parametrize(
    ("url", "taken"),
    [
        ("https://sso.example.go.id/jwks.json", True),
        ("http://127.0.0.1:8080/jwks.json", True),
        ("http://[::1]:8080/jwks.json", True),
        ("http://localhost/jwks.json", True),
        ("http://sso.example.go.id/jwks.json", False),  # whoever answers decides who reads
        ("ftp://sso.example.go.id/jwks.json", False),
        ("sso.example.go.id/jwks.json", False),
    ],
)
def test_the_key_set_is_fetched_over_https_or_on_this_machine_only(
    tmp_path: Path, url: str, taken: bool
) -> None:
    store = AuditStore(f"sqlite:///{tmp_path / 'audit.db'}")
    settings = Settings(
        home=tmp_path,
        oidc_issuer="https://sso.example.go.id",
        oidc_audience="kawal-hub",
        oidc_jwks_url=url,
    )

    if taken:
        assert create_authenticator(settings, store, ["bkn"]).oidc is not None
    else:
        with pytest.raises(ConfigurationError, match="give the identity provider's https://"):
            create_authenticator(settings, store, ["bkn"])
