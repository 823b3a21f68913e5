"""A connector names its configuration class once, as the type argument of its base."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors import registry
from connectors.authority.connector import AuthorityDatabase, OutboxConfig
from connectors.base import (
    ConfigT_co,
    ConnectorConfig,
    FeedEntry,
    InboundConnector,
    OutboundConnector,
)
from connectors.bawaslu.connector import CallbackConfig, WebhookConfig
from connectors.host import build, load_config
from connectors.inspektorat.connector import FileDropConfig
from connectors.inspektorat.feed import FeedDropConfig
from connectors.ppk.connector import RegistryConfig
from connectors.ppk.inbox import InboxConfig
from connectors.siasn.connector import SiasnConfig


class ShareConfig(ConnectorConfig):
    share: Path


class _Reader(InboundConnector[ConfigT_co]):
    """A generic intermediate base, as a family of connectors would share."""


class ShareReader(_Reader[ShareConfig]):
    name = "share-reader"


@pytest.mark.parametrize(
    ("name", "config_class"),
    [
        ("authority-outbox", OutboxConfig),
        ("authority-status", AuthorityDatabase),
        ("bawaslu-webhook", WebhookConfig),
        ("bawaslu-callback", CallbackConfig),
        ("inspektorat-filedrop", FileDropConfig),
        ("inspektorat-feed", FeedDropConfig),
        ("ppk-decrees", RegistryConfig),
        ("ppk-inbox", InboxConfig),
        ("siasn", SiasnConfig),
        ("siasn-blocks", SiasnConfig),
    ],
)
def test_each_reference_connector_declares_its_config_class(
    name: str, config_class: type[ConnectorConfig]
) -> None:
    assert registry.load(name).Config is config_class


def test_the_runtime_parses_settings_into_the_declared_class(tmp_path: Path) -> None:
    settings = tmp_path / "siasn.toml"
    settings.write_text('institution = "bkn"\nbase_url = "http://127.0.0.1:9/api"\ntoken = "t"\n')
    config = load_config(registry.load("siasn"), settings)
    assert type(config) is SiasnConfig
    connector = build("siasn", {"institution": "bkn", "base_url": "http://x/", "token": "t"})
    assert type(connector.config) is SiasnConfig


def test_a_generic_intermediate_base_passes_the_argument_on(tmp_path: Path) -> None:
    assert ShareReader.Config is ShareConfig
    assert _Reader.Config is ConnectorConfig
    config = load_config(ShareReader, {"institution": "x", "share": str(tmp_path)})
    assert config == ShareConfig(institution="x", share=tmp_path)


def test_a_connector_without_type_argument_keeps_its_own_config() -> None:
    # As connectors written before the bases were generic: ``Config = ...``, no argument.
    body = {"name": "legacy", "Config": ShareConfig, "deliver": lambda self, entry: None}
    legacy = type("Legacy", (OutboundConnector,), body)
    assert issubclass(legacy, OutboundConnector)
    assert legacy.Config is ShareConfig


def test_two_different_config_classes_are_refused() -> None:
    with pytest.raises(TypeError, match="keep the type argument"):

        class Confused(OutboundConnector[ShareConfig]):
            name = "confused"
            Config = SiasnConfig

            def deliver(self, entry: FeedEntry) -> None:
                pass
