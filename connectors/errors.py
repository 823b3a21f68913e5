"""Errors of connectors and of the runtime that hosts them."""

from __future__ import annotations

from schemas.errors import KawalError


class ConnectorError(KawalError):
    """Base of the errors a connector raises to steer the runtime."""


class TransientError(ConnectorError):
    """The system cannot be reached or answered with a temporary failure: retry later."""


class PermanentError(ConnectorError):
    """This record cannot be handled as it is: dead-letter it with this reason."""

    def __init__(self, reason_code: str, reason: str) -> None:
        super().__init__(reason)
        self.reason_code = reason_code
        self.reason = reason


class ConnectorConfigError(ConnectorError):
    """A connector's configuration is missing or invalid; the message names each bad key."""


class UnknownConnectorError(ConnectorError):
    """No connector is registered under the requested name; the message lists the known ones."""
