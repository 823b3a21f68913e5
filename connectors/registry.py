"""Connectors are found by entry point (group ``kawal.connectors``) and resolved by name.

A package adds one with, in its ``pyproject.toml``::

    [project.entry-points."kawal.connectors"]
    my-connector = "my_package.connector:MyConnector"
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from connectors.base import Connector, ConnectorConfig
from connectors.errors import UnknownConnectorError

GROUP = "kawal.connectors"

log = logging.getLogger(__name__)


def available() -> dict[str, type[Connector[ConnectorConfig]]]:
    """Every installed connector class, by registered name.

    An entry point that fails to load, or names something that is not a connector, is left
    out with a warning: one broken package must not hide the others.
    """
    found: dict[str, type[Connector[ConnectorConfig]]] = {}
    for entry in entry_points(group=GROUP):
        try:
            loaded = entry.load()
        except Exception as exc:  # a third-party package can fail in any way
            log.warning("connector %s (%s) failed to load: %r", entry.name, entry.value, exc)
            continue
        if isinstance(loaded, type) and issubclass(loaded, Connector):
            found[entry.name] = loaded
        else:
            log.warning("entry point %s (%s) is not a connector class", entry.name, entry.value)
    return dict(sorted(found.items()))


def load(name: str) -> type[Connector[ConnectorConfig]]:
    """The connector class registered as ``name``.

    Raises:
        UnknownConnectorError: nothing is registered under ``name``.
    """
    known = available()
    if name not in known:
        listing = ", ".join(known) or "none installed"
        raise UnknownConnectorError(
            f"no connector named {name!r}; known connectors: {listing} "
            f"(install a package that registers one under the entry-point group {GROUP!r})"
        )
    return known[name]
