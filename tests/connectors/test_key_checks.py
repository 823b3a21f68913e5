"""The hub keys a connector needs, checked when it starts (connectors.key_checks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.key_checks import hub_key_missing
from connectors.signed_fixtures import contract_keyring
from streams.domain.keys import KeyRegistry
from tests.connectors.test_inbound_refusals import AsItComes

NOW = datetime.now(UTC)


def test_an_inbound_connector_needs_the_hubs_encryption_key_valid_now() -> None:
    known = contract_keyring().registry
    without = KeyRegistry(
        [*known.entries(), *(e for e in known.encryption_entries() if e.institution != "kawal")]
    )
    connector = AsItComes([])

    assert hub_key_missing(connector, known, NOW) is None
    missing = hub_key_missing(connector, without, NOW)
    assert missing is not None
    assert "holds no hub (kawal) encryption key valid now, which events are sealed to" in missing


def test_a_hub_key_valid_only_later_is_not_enough() -> None:
    known = contract_keyring().registry
    early = NOW - timedelta(days=365 * 100)

    assert hub_key_missing(AsItComes([]), known, early) is not None
