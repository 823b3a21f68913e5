"""Where the broker is and which kind it is, parsed from one URL.

``kafka://host:port[;host:port]`` is Apache Kafka (or anything that behaves like it);
``tansu://host:port`` is the tansu broker, whose quirks :mod:`streams.broker.tansu` works around.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.net.compat import KafkaNetClient

from schemas.errors import KawalError
from schemas.field_formats import is_number
from streams.settings import DEFAULT_BROKER_WAIT_SECONDS

KAFKA_SCHEME = "kafka"
EXAMPLE = "e.g. KAWAL_BROKER_URL=kafka://broker-1:9092;broker-2:9092"
TANSU_SCHEME = "tansu"
#: Faust transport name of :mod:`streams.broker.transport` (plain Kafka).
KAWAL_TRANSPORT = "kawal"
#: How long a client waits for the broker to answer, in seconds (KAWAL_BROKER_WAIT_SECONDS).
BROKER_WAIT_SECONDS = DEFAULT_BROKER_WAIT_SECONDS


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
        BrokerUrlError: unknown scheme, a server without a port, or credentials in the URL.
    """
    shown = without_credentials(url)
    if shown != url:
        # The clients would take ``user:password@host`` for a host name, and echo it in errors.
        raise BrokerUrlError(
            f"broker URL {shown!r} holds a user name or password: remove them from the URL and "
            "set KAWAL_BROKER_USERNAME and KAWAL_BROKER_PASSWORD instead"
        )
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


def without_credentials(url: str) -> str:
    """``url`` (or a list of servers) without any ``user:password@`` of its servers, to show.

    Example:
        >>> without_credentials("kafka://kawal:secret@broker-1:9092;broker-2:9092")
        'kafka://broker-1:9092;broker-2:9092'
    """
    scheme, sep, rest = url.rpartition("://")
    return scheme + sep + _USER_INFO.sub("", rest)


#: A server's ``user:password@`` (servers are separated by ``;`` or ``,``).
_USER_INFO = re.compile(r"[^;,@]*@")


def client_options(
    bootstrap: Sequence[str], security: Mapping[str, Any] | None, wait: float
) -> dict[str, Any]:
    """The options every kafka-python client of the hub is built with.

    kafka-python's clients (consumer, producer and admin alike) ask a first broker for its
    version in their constructor; ``bootstrap_timeout_ms`` is how long that waits before it
    raises :class:`kafka.errors.KafkaTimeoutError`, so an unreachable broker costs ``wait``.
    """
    return {
        "bootstrap_servers": list(bootstrap),
        "bootstrap_timeout_ms": int(wait * 1000),
        **dict(security or {}),
    }


#: The kafka-python clients the hub builds.
Client = TypeVar("Client", KafkaConsumer, KafkaProducer, KafkaAdminClient)


def kafka_client(
    kind: type[Client],
    bootstrap: Sequence[str],
    security: Mapping[str, Any] | None = None,
    wait: float = BROKER_WAIT_SECONDS,
    **config: Any,
) -> Client:
    """A kafka-python client of ``kind`` on ``bootstrap`` with ``config``, built within ``wait`` s.

    Raises:
        kafka.errors.KafkaTimeoutError: no broker answered within ``wait`` s.
    """
    built: Client = _built(kind, client_options(bootstrap, security, wait) | config)
    return built


@contextmanager
def admin_client(
    endpoint: BrokerEndpoint,
    security: Mapping[str, Any] | None = None,
    timeout: float = BROKER_WAIT_SECONDS,
) -> Iterator[KafkaAdminClient]:
    """A kafka-python admin client of ``endpoint`` whose requests wait ``timeout`` s, closed after.

    Raises:
        kafka.errors.KafkaError: the broker cannot be reached.
    """
    admin = kafka_client(
        KafkaAdminClient,
        endpoint.bootstrap,
        security,
        timeout,
        request_timeout_ms=int(timeout * 1000),
    )
    try:
        yield admin
    finally:
        admin.close()


def _built(client_class: Any, options: dict[str, Any]) -> Any:
    """``client_class(**options)``, its network closed when the constructor raises.

    kafka-python 3.0.12 starts a client's IO thread and opens its sockets before the first
    bootstrap, and a constructor that raises (no broker within the wait) leaves both open: a
    thread and sockets more at every failed lag reading of a worker whose broker is down.
    """
    made: list[Any] = []

    def network(**config: Any) -> Any:
        made.append(client := KafkaNetClient(**config))
        return client

    try:
        return client_class(**options, kafka_client=network)
    except BaseException:
        for client in made:
            client.close()
        raise
