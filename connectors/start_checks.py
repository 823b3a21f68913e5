"""What ``kawal connector run`` checks before it says that it runs and before it binds a port.

A connector refused for its keys used to log ``running for <institution>`` first, and to hold
its metrics port until it exited: a supervisor or an integrator reading the log believed it
ran. Everything that needs neither the broker nor the system is checked here, in the order a
fix goes: the institution in the registry, the authority map the runtime authorizes its
events with, then the keys it signs, seals and believes with.
"""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.base import Connector, ConnectorConfig, InboundConnector
from connectors.emitters import emitter_of
from connectors.host import check_registered
from connectors.key_checks import check_keys
from streams.domain.keyring import KeyRing
from streams.local.keyring import keyring_of
from streams.settings import Settings


def checked_keyring(connector: Connector[ConnectorConfig], settings: Settings) -> KeyRing:
    """Check what ``connector`` needs to start under ``settings``; its keyring if all is there.

    Raises:
        connectors.errors.ConnectorConfigError: its institution is not registered, or the key
            registry in force holds no hub key it needs now.
        streams.domain.authority.AuthorityMapError: the authority map cannot be read (inbound).
        streams.domain.keys.KeyRegistryError: the key registry cannot be read.
        streams.domain.signing.SigningKeyError: an inbound connector holds no registered key
            of its institution.
    """
    check_registered(connector, settings)
    if isinstance(connector, InboundConnector):
        emitter_of(connector.institution, settings)  # reads the authority map, as its runner
    keyring = keyring_of(settings)
    check_keys(connector, keyring, datetime.now(UTC))
    return keyring
