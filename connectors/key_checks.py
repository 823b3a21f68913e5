"""What a connector checks of its keys when it starts, not at the first record that needs them.

An inbound connector signs with its institution's key and seals to the hub's encryption key;
an outbound one believes what the hub's signing key signed. Missing, the first was found only
when a record came to be signed, possibly hours later, and the last made an outbound connector
dead-letter its whole feed as hub_unknown_key (``KAWAL_KEYS_FILE`` forgotten in a home of its
own).
"""

from __future__ import annotations

from datetime import datetime

from connectors.base import Connector, ConnectorConfig, InboundConnector
from connectors.errors import ConnectorConfigError
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keyring import KeyRing
from streams.domain.keys import KeyRefusal, KeyRegistry
from streams.domain.signing import SigningKeyError


def check_keys(connector: Connector[ConnectorConfig], keyring: KeyRing, now: datetime) -> None:
    """Stop ``connector`` before it starts if a key it needs is missing, saying how to mend it.

    Raises:
        SigningKeyError: an inbound connector holds no registered key of its institution.
        ConnectorConfigError: the key registry in force holds no hub key it needs now.
    """
    if isinstance(connector, InboundConnector) and (
        unusable := keyring.unusable(connector.institution)
    ):
        raise SigningKeyError(unusable)
    if missing := hub_key_missing(connector, keyring.registry, now):
        raise ConnectorConfigError(missing)


def hub_key_missing(
    connector: Connector[ConnectorConfig], registry: KeyRegistry, now: datetime
) -> str | None:
    """Why the registry in force cannot serve ``connector``: no hub key it needs; or None."""
    if isinstance(connector, InboundConnector):
        if not isinstance(registry.encryption_key(HUB_INSTITUTION, now), KeyRefusal):
            return None
        need = "encryption key valid now, which events are sealed to"
    else:
        if registry.valid_keys(HUB_INSTITUTION, now):
            return None
        need = "signing key valid now, which the feed is believed with"
    where = registry.source or ("the bundled one" if registry.bundled else "the one in force")
    return (
        f"the key registry in force ({where}) holds no hub ({HUB_INSTITUTION}) {need}: set "
        "KAWAL_KEYS_FILE to the key registry the hub's operators give (docs/connectors.md, A "
        "new institution)"
    )
