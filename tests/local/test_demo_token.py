"""The demo's PPK gets a bearer token for the hub's trails, kept and used again while valid."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from connectors.commands import _demo_hub
from streams.audit.store import AuditStore
from streams.audit.tokens import TokenStore
from streams.domain.principals import Principal
from streams.local.demo_token import DEMO_PPK, demo_hub_url, demo_token, demo_token_file
from streams.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A home with an audit store, as `kawal up` leaves it."""
    settings = Settings(home=tmp_path / "home", web_port=6123)
    store = AuditStore(settings.audit_url)
    store.create_schema(settings.home)
    store.close()
    return settings


def _tokens(settings: Settings) -> TokenStore:
    return TokenStore(AuditStore.open_existing(settings.audit_url).engine)


def test_the_demo_issues_a_ppk_token_once_and_keeps_it_private(settings: Settings) -> None:
    path = demo_token(settings)

    assert path == demo_token_file(settings.home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_text().strip()
    principal = _tokens(settings).resolve(secret)
    assert isinstance(principal, Principal)
    assert principal.name == DEMO_PPK
    # A restart uses the token kept: no second one.
    assert demo_token(settings).read_text().strip() == secret
    assert len(_tokens(settings).tokens()) == 1


def test_a_token_the_hub_no_longer_takes_is_replaced(settings: Settings) -> None:
    first = demo_token(settings).read_text().strip()
    (issued,) = _tokens(settings).tokens()
    _tokens(settings).revoke(issued.id, "test")

    second = demo_token(settings).read_text().strip()

    assert second != first
    assert isinstance(_tokens(settings).resolve(second), Principal)


def test_the_demo_inbox_reads_trails_at_the_hubs_address(settings: Settings) -> None:
    assert _demo_hub(settings) == {
        "hub_url": "http://127.0.0.1:6123",
        "token_file": str(demo_token_file(settings.home)),
    }
    assert demo_hub_url(settings.model_copy(update={"web_host": "0.0.0.0"})) == (
        "http://127.0.0.1:6123"
    )


def test_without_an_audit_store_the_demo_inbox_reads_the_feed_only_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert _demo_hub(Settings(home=tmp_path / "empty")) == {}
    assert "reads no subject from the hub's trails" in caplog.text
    assert not demo_token_file(tmp_path / "empty").exists()
