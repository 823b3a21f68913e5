"""How every Kafka client of a process authenticates: the ``KAWAL_BROKER_*`` security settings.

The worker's and the sink's Faust apps (aiokafka), the command line's admin clients, consumers
and producers, the event publisher and the connectors' host (kafka-python) all take their
security arguments from one :class:`BrokerCredentials`, so one set of settings serves them all:

* ``PLAINTEXT`` (the default): no authentication, no encryption; nothing changes;
* ``SASL_PLAINTEXT``: SASL/SCRAM with ``KAWAL_BROKER_USERNAME`` and ``KAWAL_BROKER_PASSWORD``;
* ``SSL``: TLS, the broker verified against ``KAWAL_BROKER_CA_FILE`` (the system's trust
  store when unset), and a client certificate (``KAWAL_BROKER_CERT_FILE`` and
  ``KAWAL_BROKER_KEY_FILE``) when set: mutual TLS;
* ``SASL_SSL``: both.

A setting the chosen protocol would not use is refused rather than silently ignored: a
password set for a ``PLAINTEXT`` client usually means a forgotten protocol, not a wish to
connect without one.

The password stays a :class:`~pydantic.SecretStr` until a client needs it, and the client gets
a ``str`` whose ``repr`` is masked: kafka-python's admin client logs its whole configuration at
DEBUG. No message of this module names it.

The embedded broker (tansu 0.6.0) authenticates nobody: ``docs/broker-security.md`` says why.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import faust
from faust.types.auth import CredentialsT
from pydantic import SecretStr

from schemas.errors import KawalError
from streams.settings import Settings


class BrokerCredentialsError(KawalError):
    """The broker security settings are incomplete, contradictory or unreadable."""


class SecurityProtocol(StrEnum):
    """Kafka's ``security.protocol``: authentication (SASL) and encryption (SSL) or not."""

    PLAINTEXT = "PLAINTEXT"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SSL = "SSL"
    SASL_SSL = "SASL_SSL"

    @property
    def uses_sasl(self) -> bool:
        """True when the client authenticates with a username and password."""
        return self in (SecurityProtocol.SASL_PLAINTEXT, SecurityProtocol.SASL_SSL)

    @property
    def uses_tls(self) -> bool:
        """True when the connection is encrypted and the broker's certificate verified."""
        return self in (SecurityProtocol.SSL, SecurityProtocol.SASL_SSL)


class SaslMechanism(StrEnum):
    """The SASL mechanisms offered: SCRAM only (PLAIN would send the password itself)."""

    SCRAM_SHA_256 = "SCRAM-SHA-256"
    SCRAM_SHA_512 = "SCRAM-SHA-512"


class _Password(str):
    """A password as the clients need it, a ``str``, that never shows in a ``repr``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'**********'"


@dataclass(frozen=True)
class BrokerCredentials:
    """The security arguments of every Kafka client of a process.

    Build it with :meth:`from_settings`; the default is ``PLAINTEXT``.

    Attributes:
        protocol: Kafka's ``security.protocol``.
        mechanism: SASL mechanism (used by the SASL protocols only).
        username: SASL user (the principal ``User:<username>``).
        password: SASL password.
        ssl_context: TLS context of the TLS protocols: trusted CAs and the client certificate.
    """

    protocol: SecurityProtocol = SecurityProtocol.PLAINTEXT
    mechanism: SaslMechanism = SaslMechanism.SCRAM_SHA_512
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.protocol.uses_sasl and not (self.username and self.password):
            raise BrokerCredentialsError(
                f"KAWAL_BROKER_SECURITY_PROTOCOL={self.protocol} needs KAWAL_BROKER_USERNAME "
                "and KAWAL_BROKER_PASSWORD; set both"
            )
        if self.protocol.uses_tls and self.ssl_context is None:
            raise BrokerCredentialsError(f"{self.protocol} needs a TLS context")

    @classmethod
    def from_settings(cls, settings: Settings) -> BrokerCredentials:
        """The credentials ``settings`` describe, checked and with their TLS context loaded.

        Raises:
            BrokerCredentialsError: a setting the protocol needs is missing, one it would not
                use is set, or a certificate or key file cannot be read.
        """
        protocol = SecurityProtocol(settings.broker_security_protocol)
        _refuse_unused(protocol, settings)
        if settings.broker_password is not None and not settings.broker_password.get_secret_value():
            raise BrokerCredentialsError("KAWAL_BROKER_PASSWORD is empty; set the password")
        return cls(
            protocol=protocol,
            mechanism=SaslMechanism(settings.broker_sasl_mechanism),
            username=settings.broker_username,
            password=settings.broker_password,
            ssl_context=_tls_context(settings) if protocol.uses_tls else None,
        )

    def describe(self) -> str:
        """Who connects, and how, for messages: never the password.

        >>> BrokerCredentials().describe()
        'without authentication (PLAINTEXT)'
        """
        if self.protocol.uses_sasl:
            return f"as user {self.username!r} ({self.protocol}, {self.mechanism})"
        if self.protocol.uses_tls:
            return f"over TLS ({self.protocol})"
        return f"without authentication ({self.protocol})"

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of a kafka-python or aiokafka client (both take the same names)."""
        kwargs: dict[str, Any] = {"security_protocol": str(self.protocol)}
        if self.protocol.uses_sasl:
            kwargs |= {
                "sasl_mechanism": str(self.mechanism),
                "sasl_plain_username": self.username,
                "sasl_plain_password": self._password(),
            }
        if self.protocol.uses_tls:
            kwargs["ssl_context"] = self.ssl_context
        return kwargs

    def faust(self) -> CredentialsT | None:
        """Faust's ``broker_credentials``; ``None`` is plaintext."""
        if self.protocol.uses_sasl:
            return faust.SASLCredentials(
                username=self.username,
                password=self._password(),
                mechanism=str(self.mechanism),
                ssl_context=self.ssl_context,
            )
        if self.protocol.uses_tls:
            return faust.SSLCredentials(self.ssl_context)
        return None

    def _password(self) -> str:
        assert self.password is not None  # __post_init__ requires one for SASL
        return _Password(self.password.get_secret_value())


#: Plaintext: what every client uses unless told otherwise.
PLAINTEXT = BrokerCredentials()


def _refuse_unused(protocol: SecurityProtocol, settings: Settings) -> None:
    unused = []
    if not protocol.uses_sasl:
        unused += [
            name
            for name, value in (
                ("KAWAL_BROKER_USERNAME", settings.broker_username),
                ("KAWAL_BROKER_PASSWORD", settings.broker_password),
            )
            if value is not None
        ]
    if not protocol.uses_tls:
        unused += [
            name
            for name, value in (
                ("KAWAL_BROKER_CA_FILE", settings.broker_ca_file),
                ("KAWAL_BROKER_CERT_FILE", settings.broker_cert_file),
                ("KAWAL_BROKER_KEY_FILE", settings.broker_key_file),
            )
            if value is not None
        ]
    if unused:
        needs = "SASL_PLAINTEXT or SASL_SSL" if not protocol.uses_sasl else "SSL or SASL_SSL"
        raise BrokerCredentialsError(
            f"{' and '.join(unused)} {'is' if len(unused) == 1 else 'are'} set but "
            f"KAWAL_BROKER_SECURITY_PROTOCOL={protocol} does not use "
            f"{'it' if len(unused) == 1 else 'them'}: set the protocol ({needs}) or unset them"
        )


def _tls_context(settings: Settings) -> ssl.SSLContext:
    """A client context that verifies the broker's certificate and host name."""
    cert, key = settings.broker_cert_file, settings.broker_key_file
    if (cert is None) != (key is None):
        raise BrokerCredentialsError(
            "KAWAL_BROKER_CERT_FILE and KAWAL_BROKER_KEY_FILE go together (mutual TLS); set "
            "both or neither"
        )
    ca_file = settings.broker_ca_file
    try:
        cafile = None if ca_file is None else _readable(ca_file, "KAWAL_BROKER_CA_FILE")
        context = ssl.create_default_context(cafile=cafile)
    except ssl.SSLError as exc:
        raise BrokerCredentialsError(
            f"KAWAL_BROKER_CA_FILE={ca_file} holds no PEM certificate the TLS library accepts "
            f"({exc.reason}); point it at the CA certificate(s) of the broker"
        ) from None
    if cert is not None and key is not None:
        try:
            context.load_cert_chain(
                _readable(cert, "KAWAL_BROKER_CERT_FILE"),
                _readable(key, "KAWAL_BROKER_KEY_FILE"),
                password=_no_key_password,
            )
        except ssl.SSLError as exc:
            # The reason is OpenSSL's (e.g. KEY_VALUES_MISMATCH); no file content is quoted.
            raise BrokerCredentialsError(
                f"the client certificate {cert} and key {key} cannot be loaded ({exc.reason}); "
                "check that both are PEM and that the key belongs to the certificate"
            ) from None
    return context


def _readable(path: Path, setting: str) -> str:
    if not path.is_file():
        raise BrokerCredentialsError(f"{setting}={path} is not a readable file")
    return str(path)


def _no_key_password() -> str:
    # Called by OpenSSL only for an encrypted key; without it, OpenSSL would prompt on the TTY.
    raise BrokerCredentialsError(
        "KAWAL_BROKER_KEY_FILE is encrypted; kawal reads unencrypted keys only: decrypt it "
        "and protect it by its file mode (0600) instead"
    )
