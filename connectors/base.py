"""What a connector implements: one or two hooks per direction, nothing about Kafka.

An :class:`InboundConnector` reads its institution's system and maps what it finds to shared
events; an :class:`OutboundConnector` delivers the entries of its institution's outbound feed
into that system. The hub (:mod:`connectors.runtime`) owns every Kafka client, the checkpoints,
retries with backoff and the dead-letter topic; a connector only sees its validated
configuration and a :class:`ConnectorContext`.

Both bases are generic in the connector's configuration class, named once as the type
argument: the runtime validates the settings with it and ``self.config`` has its type::

    class MyConfig(ConnectorConfig):
        share: Path

    class MyInbound(InboundConnector[MyConfig]):
        name = "my-inbound"

        def read(self, after: str | None, limit: int) -> Sequence[SourceRecord]:
            lines = (self.config.share / "outbox.jsonl").read_text().splitlines()
            ...

Errors a connector raises tell the runtime what to do: :class:`TransientError` (the system is
down, timed out, answered 5xx): retry with backoff; :class:`PermanentError` (this record can
never be handled as it is): dead-letter it with the reason and go on. Reasons never quote
personal data.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field

from connectors.errors import PermanentError, TransientError
from connectors.receipts import HubRefusal
from connectors.retry import RetryPolicy
from schemas.catalog import SchemaCatalog
from schemas.codec import AvroCodec
from streams.domain.keys import KeyRegistry


def check_zone(name: str) -> str:
    """``name`` if it is an IANA time zone (a config's ``timezone``).

    Raises:
        ValueError: no such zone.
    """
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone, e.g. 'Asia/Jakarta' or 'UTC'") from None
    return name


class ConnectorConfig(BaseModel):
    """Base of a connector's configuration: unknown keys are errors, values are validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    institution: str
    """Id of the institution the connector speaks for (``streams/data/institutions.toml``)."""
    retry: RetryPolicy = RetryPolicy()
    """Retries of calls into the system before a record is dead-lettered."""
    poll_seconds: float = Field(default=1.0, gt=0)
    """Pause between reads when the system had nothing new."""


@dataclass(frozen=True)
class Event:
    """One shared event, ready to publish: its type (``ReportReceived``...) and Avro record."""

    event_type: str
    record: dict[str, Any]


@dataclass(frozen=True)
class SourceRecord:
    """One record read from an institution's system.

    Attributes:
        position: Checkpoint to store once this record's events are published; the runtime
            stores the last record's position of each batch as given and passes it back as
            ``after``, so it must let ``read`` find every record not yet published.
        payload: The record as the system gave it.
        source_id: The system's own id of the record (used in reasons and event ids).
    """

    position: str
    payload: Mapping[str, Any]
    source_id: str


@dataclass(frozen=True)
class FeedEntry:
    """One entry of an institution's outbound feed, decoded.

    Attributes:
        entry: The ``kawal.AuditEntry`` record (case_id, seq, hash, event bytes, disclosures).
        event: The event inside it, decoded, with the disclosed values the institution may see.
        event_type: Short type name of the event.
    """

    entry: dict[str, Any]
    event: dict[str, Any]
    event_type: str

    @property
    def event_id(self) -> str:
        """The event's id: delivery is idempotent on it."""
        return str(self.entry["event_id"])

    @property
    def case_id(self) -> str:
        """The case the entry belongs to."""
        return str(self.entry["case_id"])


@dataclass
class ConnectorContext:
    """What the hub hands a connector: schemas, codec and a logger; never a Kafka client."""

    catalog: SchemaCatalog
    codec: AvroCodec
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("kawal.connector"))
    keys: KeyRegistry | None = None
    """The key registry in force, for a connector that checks entries it reads beside its
    feed (``ppk-inbox``'s trail reads); the runtime sets it before the first pass and adopts
    the registry's changes into it. None outside the runtime."""


def _config_argument(cls: type) -> type[ConnectorConfig] | None:
    """The configuration class ``cls`` gives its connector base as type argument, if any."""
    # Only the class's own bases: an inherited __orig_bases__ names the parent's argument,
    # which the parent already set as Config.
    for base in vars(cls).get("__orig_bases__", ()):
        origin = get_origin(base)
        if not (isinstance(origin, type) and issubclass(origin, Connector)):
            continue
        for argument in get_args(base):
            if isinstance(argument, type) and issubclass(argument, ConnectorConfig):
                return argument
    return None


#: A connector's configuration class. Covariant: a connector of a ``ConnectorConfig`` subclass
#: is a ``Connector[ConnectorConfig]``, which is what the runtime handles.
ConfigT_co = TypeVar("ConfigT_co", bound=ConnectorConfig, covariant=True)


class Connector(ABC, Generic[ConfigT_co]):
    """Common part of both directions, generic in the configuration class.

    Args:
        config: The validated configuration, of the class given as type argument.
        context: What the hub hands the connector.
    """

    #: Name the connector is registered under (entry point ``kawal.connectors``).
    name: ClassVar[str]
    #: The configuration model the runtime validates raw settings with: the type argument of
    #: the connector's base (``InboundConnector[MyConfig]``), set when the class is defined.
    Config: ClassVar[type[ConnectorConfig]] = ConnectorConfig

    def __init__(self, config: ConfigT_co, context: ConnectorContext) -> None:
        self._config = config
        self.context = context

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = _config_argument(cls)
        if declared is None:
            return  # a generic intermediate base, or a class that sets ``Config`` itself
        if "Config" in vars(cls) and cls.Config is not declared:
            raise TypeError(
                f"{cls.__name__} declares two configuration classes: {declared.__name__} as its "
                f"type argument and {cls.Config.__name__} as Config; keep the type argument"
            )
        cls.Config = declared

    @property
    def config(self) -> ConfigT_co:
        """The validated configuration."""
        return self._config

    @property
    def institution(self) -> str:
        """Id of the institution the connector speaks for."""
        return self.config.institution

    def expire(self, now: datetime) -> None:
        """Delete what the connector keeps past its retention at ``now`` (optional).

        A connector that keeps copies of its institution's records (a spool, processed batch
        files) deletes here those it no longer needs, and logs how many, never which. The
        runtime calls it when the connector starts, then at most every
        :data:`connectors.expiry.EXPIRY_INTERVAL`, from the connector's own loop.
        """

    def close(self) -> None:
        """Release what the connector opened (connections, files)."""


class InboundConnector(Connector[ConfigT_co]):
    """Institution system → shared events."""

    direction: ClassVar[str] = "inbound"

    @abstractmethod
    def read(self, after: str | None, limit: int) -> Sequence[SourceRecord]:
        """Up to ``limit`` records of the system after checkpoint ``after`` (None: from start).

        Raises:
            TransientError: the system cannot be read now.
        """

    @abstractmethod
    def to_events(self, record: SourceRecord) -> list[Event]:
        """The shared events one system record stands for.

        Event ids must be derived from the record (see :func:`connectors.ids.event_id_for`),
        so that reading the same record again yields the same events.

        Raises:
            PermanentError: the record cannot be mapped (its reason says what to fix).
        """

    def acknowledge(self, records: Sequence[SourceRecord]) -> None:
        """Tell the system these records are in the hub (optional: receipts, outbox marks)."""

    def rejected(self, record: SourceRecord, error: PermanentError) -> None:
        """Tell the system that the runtime refused one of its records (optional).

        Called once the record's dead letter is in ``kawal.dlq``, for every record the runtime
        refused: one the connector could not map (``error`` is the ``PermanentError`` it
        raised) or whose events the runtime could not sign (``schema_mismatch``,
        ``unauthorized_sender``...). Only the hub's operators read the DLQ: a connector whose
        system has a place for it (a record's status, a table of refusals) overrides this, so
        that whoever keeps the record learns it was not sent. A record read again (after a
        broker outage, or with ``--reread-after``) is refused again: write idempotently. The
        reason code and reason are free of personal data; so must be what the system keeps.

        Raises:
            TransientError: the system is unavailable; the runtime retries with backoff, then
                logs a WARNING and goes on: the dead letter stands.
            PermanentError: the system cannot take it; the runtime logs it and goes on.
        """


class OutboundConnector(Connector[ConfigT_co]):
    """Outbound feed → institution system."""

    direction: ClassVar[str] = "outbound"

    @abstractmethod
    def deliver(self, entry: FeedEntry) -> None:
        """Write one feed entry into the system, idempotently on ``entry.event_id``.

        Raises:
            TransientError: the system is unavailable; the runtime retries with backoff.
            PermanentError: the entry can never be delivered; it is dead-lettered.
        """

    def catch_up(self) -> int:
        """Do work left for later; how many items still wait (optional).

        For a connector that reads another system beside its feed for what an entry lacks
        (``ppk-inbox``: a case's subject, from the hub's trail) and keeps what failed to retry
        it. The runtime calls it between the passes of the feed, often (each connector limits
        its own pace), exports the count as ``kawal_connector_waiting``, and logs whatever it
        raises and goes on: this work never holds the feed nor ends the connector.
        """
        return 0

    def refused(self, refusal: HubRefusal) -> None:
        """Tell the system that the hub refused one of the institution's records (optional).

        The runtime has checked the hub's signature, logged a WARNING and counted it already;
        a connector whose system has a place for it (a report's status) overrides this.

        Raises:
            TransientError: the system is unavailable; the runtime retries with backoff.
            PermanentError: the system cannot take it; the receipt is dead-lettered.
        """


__all__ = [
    "ConfigT_co",
    "Connector",
    "ConnectorConfig",
    "ConnectorContext",
    "Event",
    "FeedEntry",
    "HubRefusal",
    "InboundConnector",
    "OutboundConnector",
    "PermanentError",
    "SourceRecord",
    "TransientError",
]
