"""Where the broker is and which kind it is, parsed from one URL.

``kafka://host:port[;host:port]`` is Apache Kafka (or anything that behaves like it);
``tansu://host:port`` is the tansu broker, whose quirks :mod:`streams.broker.tansu` works around.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient

from schemas.errors import KawalError
from schemas.field_formats import is_number

KAFKA_SCHEME = "kafka"
EXAMPLE = "e.g. KAWAL_BROKER_URL=kafka://broker-1:9092;broker-2:9092"
TANSU_SCHEME = "tansu"
#: Faust transport name of :mod:`streams.broker.transport` (plain Kafka).
KAWAL_TRANSPORT = "kawal"


class BrokerUrlError(KawalError):
    """The broker URL cannot be understood."""


@dataclass(frozen=True)
class BrokerEndpoint:
    """Bootstrap servers of a broker and whether it is tansu."""

    scheme: str
    servers: tuple[str, ...]

    @property
    def is_tansu(self) -> bool:
        """True when the broker is tansu and needs the compatibility layer."""
        return self.scheme == TANSU_SCHEME

    @property
    def faust_url(self) -> str:
        """The URL Faust's transport registry resolves to the hub's own transports.

        ``kawal`` is :mod:`streams.broker.transport`, ``tansu`` is :mod:`streams.broker.tansu`, both
        registered under the entry-point group ``faust.transports``.
        """
        driver = TANSU_SCHEME if self.is_tansu else KAWAL_TRANSPORT
        return f"{driver}://{';'.join(self.servers)}"

    @property
    def bootstrap(self) -> list[str]:
        """Bootstrap servers for kafka-python clients."""
        return list(self.servers)


def parse_broker_url(url: str) -> BrokerEndpoint:
    """Parse ``kafka://h:p;h:p`` or ``tansu://h:p``.

    Raises:
        BrokerUrlError: unknown scheme, or a server without a port.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in (KAFKA_SCHEME, TANSU_SCHEME):
        raise BrokerUrlError(f"broker URL {url!r} must start with kafka:// or tansu:// ({EXAMPLE})")
    servers = tuple(part.strip() for part in rest.replace(",", ";").split(";") if part.strip())
    for server in servers:
        host, _, port = server.rpartition(":")
        if not host or not is_number(port):
            raise BrokerUrlError(f"broker server {server!r} must be host:port ({EXAMPLE})")
    if not servers:
        raise BrokerUrlError(f"broker URL {url!r} names no server ({EXAMPLE})")
    return BrokerEndpoint(scheme=scheme, servers=servers)


@contextmanager
def admin_client(
    endpoint: BrokerEndpoint, security: Mapping[str, Any] | None = None, timeout: float = 15.0
) -> Iterator[KafkaAdminClient]:
    """A kafka-python admin client of ``endpoint`` whose requests wait ``timeout`` s, closed after.

    Raises:
        kafka.errors.KafkaError: the broker cannot be reached.
    """
    admin = KafkaAdminClient(
        bootstrap_servers=endpoint.bootstrap,
        # Also the wait for a first broker to answer (kafka-python's default: 30 s).
        bootstrap_timeout_ms=int(timeout * 1000),
        request_timeout_ms=int(timeout * 1000),
        **dict(security or {}),
    )
    try:
        yield admin
    finally:
        admin.close()
