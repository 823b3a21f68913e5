"""Run one connector against the hub: validate its configuration, give it what it needs, loop.

``kawal connector run NAME --config FILE`` takes the connector's lock (:func:`only_copy`) before
it builds the connector or opens any port, then calls :func:`run_held`; other callers call
:func:`run_connector`, which takes the lock itself. The configuration is a
TOML file parsed into the configuration class the connector declares (the type argument of its
base, ``InboundConnector[MyConfig]``); unknown or missing keys stop the run at once with a
message naming each of them, and so does an ``institution`` the registry in force does not
list (:func:`check_registered`).
"""

from __future__ import annotations

import logging
import threading
import tomllib
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from pydantic import ValidationError

from connectors import registry
from connectors.base import (
    Connector,
    ConnectorConfig,
    ConnectorContext,
    InboundConnector,
    OutboundConnector,
)
from connectors.broker_watch import BrokerWatch
from connectors.emitters import emitter_of
from connectors.errors import ConnectorConfigError
from connectors.expiry import ExpirySchedule
from connectors.feed_chains import FeedChains
from connectors.heads import HeadKeeper
from connectors.key_checks import check_keys
from connectors.outbound_runner import OutboundRunner
from connectors.redelivery import Redelivery
from connectors.runtime import InboundRunner, group_id
from monitoring.connectors import ConnectorMetrics, ConnectorProbe
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.broker.checkpoints import CheckpointStore
from streams.broker.credentials import PLAINTEXT, BrokerCredentials
from streams.broker.endpoint import BROKER_WAIT_SECONDS, kafka_client
from streams.broker.silence import CHECK_SECONDS
from streams.broker.topic_presence import TopicPresence, broker_topics
from streams.domain.institutions import (
    MAX_ID_LENGTH,
    load_institutions,
    resembling,
)
from streams.domain.key_files import DamagedKeyFile
from streams.domain.keyring import KeyRing
from streams.local.keyring import keyring_of
from streams.private_files import private_dir
from streams.process_lock import held_lock
from streams.settings import Settings
from streams.topics import HEADS, inbound_topic, inbound_topic_of

log = logging.getLogger(__name__)


def load_config(
    cls: type[Connector[ConnectorConfig]], source: Path | dict[str, Any]
) -> ConnectorConfig:
    """Validate a connector's configuration (a TOML file or a mapping) with its ``Config`` class.

    Raises:
        ConnectorConfigError: the file is unreadable, or keys are missing, unknown or invalid.
    """
    raw = _read_toml(source) if isinstance(source, Path) else source
    try:
        return cls.Config.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(top)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConnectorConfigError(f"invalid configuration of {cls.name}: {problems}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConnectorConfigError(f"cannot read connector configuration {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConnectorConfigError(f"{path} is not valid TOML: {exc}") from exc


def check_registered(connector: Connector[ConnectorConfig], settings: Settings) -> None:
    """Refuse a connector that speaks for an institution the registry in force does not list.

    Its events would be refused by the hub, and its feed would be a topic nobody writes.

    Raises:
        ConnectorConfigError: ``institution`` is no id of the registry (the message says which
            registry, and the registered id it most resembles, if any).
    """
    registered = [institution.id for institution in load_institutions(settings.institutions_file)]
    given = connector.institution
    if given in registered:
        return
    where = settings.institutions_file or "the bundled streams/data/institutions.toml"
    raise ConnectorConfigError(
        f"invalid configuration of {connector.name}: institution {given[:MAX_ID_LENGTH]!r} is "
        f"not in the institutions registry ({where}){resembling(given, registered)}; set "
        "`institution` to a registered id, or register it (KAWAL_INSTITUTIONS_FILE names the "
        "registry in force) and create its topics with `kawal topics apply`"
    )


def build(name: str, source: Path | dict[str, Any]) -> Connector[ConnectorConfig]:
    """Instantiate connector ``name`` with its validated configuration."""
    cls = registry.load(name)
    catalog = default_catalog()
    return cls(load_config(cls, source), ConnectorContext(catalog, AvroCodec(catalog)))


def run_connector(
    connector: Connector[ConnectorConfig],
    bootstrap: list[str],
    home: Path,
    stop: threading.Event,
    credentials: BrokerCredentials = PLAINTEXT,
    keyring: KeyRing | None = None,
    redeliver_from: dict[int, int] | None = None,
    metrics: ConnectorMetrics | None = None,
    reread_after: str | None = None,
) -> None:
    """Run ``connector`` until ``stop`` is set, its clients authenticated by ``credentials``.

    ``redeliver_from`` (outbound only) maps partitions of the connector's feed to the offset it
    delivers again from (:class:`connectors.redelivery.Redelivery`), as ``kawal dlq replay``
    tells for an entry the connector dead-lettered; ``reread_after`` (inbound only) is the
    position in its system it reads again after (see :func:`run_held`).

    Events are signed, and feed entries checked, with ``keyring``: by default the keys under
    ``home/keys`` and the key registry in force (``KAWAL_KEYS_FILE`` or the local one). The
    loop also lets the connector delete what it keeps past its retention
    (:class:`connectors.expiry.ExpirySchedule`). Its checkpoints, feed chains and kept heads
    under ``home/connectors`` are mode 0600 in a folder of mode 0700. Its health goes to
    ``metrics`` (by default a registry of its own that nothing serves).

    Raises:
        streams.process_lock.AlreadyRunningError: another copy of the connector runs on
            ``home`` (:func:`only_copy`).
    """
    with only_copy(connector.name, home):
        run_held(
            connector,
            bootstrap,
            home,
            stop,
            credentials,
            keyring,
            redeliver_from,
            metrics,
            reread_after=reread_after,
        )


def only_copy(name: str, home: Path) -> AbstractContextManager[None]:
    """Refuses a second copy of connector ``name`` on ``home``: hold it for the whole run.

    Two copies would both deliver each feed entry and append heads to one file out of order,
    after which every new head is refused as not extending the last one kept. A caller that
    opens ports before the run (a connector that listens, its metrics) takes this first, so a
    second copy exits before it answers anything, and then calls :func:`run_held`.

    Raises:
        streams.process_lock.AlreadyRunningError: another copy holds it (on entering).
    """
    folder = home / "connectors"
    private_dir(folder)
    return held_lock(
        folder / f"{name}.lock",
        lambda owner: (
            f"connector {name} already runs on KAWAL_HOME={home.resolve()} (pid {owner}); "
            "stop it first: one copy per connector name and home. Another institution's copy "
            "runs from a KAWAL_HOME of its own (docs/connectors.md, A new institution); an "
            "outbound copy restarted with --redeliver-from delivers again from an offset"
        ),
    )


def run_held(
    connector: Connector[ConnectorConfig],
    bootstrap: list[str],
    home: Path,
    stop: threading.Event,
    credentials: BrokerCredentials = PLAINTEXT,
    keyring: KeyRing | None = None,
    redeliver_from: dict[int, int] | None = None,
    metrics: ConnectorMetrics | None = None,
    wait: float = BROKER_WAIT_SECONDS,
    reread_after: str | None = None,
) -> None:
    """:func:`run_connector` for a caller that holds :func:`only_copy` of ``connector``.

    ``reread_after`` (inbound only) replaces the connector's checkpoint before it reads, so it
    reads its system again after that position, as the reason of a record it dead-lettered
    tells once the record is corrected where it was read.

    Raises:
        kafka.errors.KafkaTimeoutError: no broker answered within ``wait`` s.
    """
    probe = (metrics or ConnectorMetrics()).probe(connector.name, connector.institution)
    probe.polls_every(connector.config.poll_seconds)
    keyring = keyring or keyring_of(Settings(home=home))
    keyring.follow_set_aside(partial(_set_aside, connector.institution, probe))
    check_keys(connector, keyring, datetime.now(UTC))
    # The one registry the runner refreshes in place (RegistryWatch): a key revoked since
    # vouches for nothing the connector reads beside its feed either.
    connector.context.keys = keyring.registry
    security = credentials.client_kwargs()
    new_producer = partial(
        kafka_client,
        KafkaProducer,
        bootstrap,
        security,
        wait,
        acks="all",
        client_id=f"kawal-connector-{connector.name}",
    )
    producer = new_producer()
    # The outbound connector's consumer, built with the same servers, credentials and wait.
    new_consumer = partial(kafka_client, KafkaConsumer, bootstrap, security, wait)
    runner: InboundRunner | OutboundRunner | None = None
    # The broker's silence is the connector's too: its loop may not notice it (broker_watch).
    watch = BrokerWatch(
        bootstrap, security, wait, every=min(CHECK_SECONDS, wait), connector=connector.name
    )
    try:
        with watch.follow(probe):
            if isinstance(connector, InboundConnector):
                topics = broker_topics(bootstrap, security, wait)
                runner = _inbound_runner(
                    connector, (producer, new_producer), home, keyring, probe, topics
                )
                _run_inbound(runner, stop, reread_after)
            elif isinstance(connector, OutboundConnector):
                redelivery = Redelivery(OutboundRunner.topic_of(connector), redeliver_from or {})
                runner = _outbound_runner(
                    connector,
                    (producer, new_producer),
                    new_consumer,
                    home,
                    keyring,
                    redelivery,
                    probe,
                )
                _run_outbound(runner, stop)
    finally:
        # A runner's producer is another after an outage made it a new one.
        (runner.producer if runner else producer).close()
        connector.close()


def inbound_topic_in_registry(institution_id: str, settings: Settings) -> str:
    """The topic the registry in force (``KAWAL_INSTITUTIONS_FILE``) gives an institution.

    An institution the registry does not list publishes on its own topic, as before lanes.
    """
    for institution in load_institutions(settings.institutions_file):
        if institution.id == institution_id:
            return inbound_topic_of(institution)
    return inbound_topic(institution_id)


def _inbound_runner(
    connector: InboundConnector[ConnectorConfig],
    producers: tuple[KafkaProducer, Callable[[], KafkaProducer]],
    home: Path,
    keyring: KeyRing,
    probe: ConnectorProbe,
    topics: Callable[[], Collection[str]],
) -> InboundRunner:
    """The runner of ``connector``: its producer, and how to make another after an outage.

    ``topics`` lists the broker's topics: a connector whose inbound topic the broker does not
    hold stops at its first pass, saying which topic and why.
    """
    producer, new_producer = producers
    settings = Settings(home=home)
    registry = {inst.id: inst for inst in load_institutions(settings.institutions_file)}
    return InboundRunner(
        connector,
        producer,
        connector.context.codec,
        CheckpointStore(home / "connectors" / "checkpoints.db"),
        connector.config.retry,
        keyring,
        probe=probe,
        topic=inbound_topic_in_registry(connector.institution, settings),
        new_producer=new_producer,
        emitter=emitter_of(connector.institution, settings),
        presence=TopicPresence(topics, registry),
    )


def _run_inbound(
    runner: InboundRunner, stop: threading.Event, reread_after: str | None = None
) -> None:
    connector, checkpoints = runner.connector, runner.checkpoints
    if reread_after is not None:
        checkpoints.put(connector.name, reread_after)
        # The position is not logged: positions name the records of the institution's system.
        log.warning(
            "%s: reading its system again after the position given; records read before "
            "come again with the same event ids, which the hub refuses as duplicate_event",
            connector.name,
        )
    expiry = ExpirySchedule(connector)
    try:
        while not stop.is_set():
            expiry.run_if_due()
            if runner.run_once() == 0:
                stop.wait(connector.config.poll_seconds)
    finally:
        checkpoints.close()


def _outbound_runner(
    connector: OutboundConnector[ConnectorConfig],
    producers: tuple[KafkaProducer, Callable[[], KafkaProducer]],
    new_consumer: Callable[..., KafkaConsumer],
    home: Path,
    keyring: KeyRing,
    redelivery: Redelivery,
    probe: ConnectorProbe,
) -> OutboundRunner:
    """The runner of ``connector``: its consumer, feed chains, kept heads and producers."""
    chains = FeedChains(home / "connectors" / f"{connector.name}.chains.db")
    # The heads file is what `kawal audit verify --heads` reads on the institution's side.
    heads = HeadKeeper(home / "connectors" / f"{connector.name}.heads.jsonl", keyring.registry)
    consumer = new_consumer(
        group_id=group_id(connector.institution, connector.name),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=6_000,
        heartbeat_interval_ms=2_000,
        fetch_max_wait_ms=100,
    )
    if redelivery.pending:
        try:
            redelivery.check_partitions(consumer.partitions_for_topic(redelivery.topic))
        except ConnectorConfigError:
            consumer.close()
            chains.close()
            raise
    consumer.subscribe([OutboundRunner.topic_of(connector), HEADS], listener=redelivery)
    redelivery.consumer = consumer
    producer, new_producer = producers
    return OutboundRunner(
        connector,
        consumer,
        producer,
        connector.context.codec,
        connector.config.retry,
        keyring,
        chains,
        heads,
        probe,
        new_producer=new_producer,
    )


def _run_outbound(runner: OutboundRunner, stop: threading.Event) -> None:
    expiry = ExpirySchedule(runner.connector)
    try:
        while not stop.is_set():
            expiry.run_if_due()
            runner.run_once()
            runner.catch_up()
    finally:
        runner.consumer.close()
        runner.chains.close()


def _set_aside(
    own: str, probe: ConnectorProbe, institution: str, files: Sequence[DamagedKeyFile]
) -> None:
    """Export the files of the connector's own institution's key folder set aside."""
    if institution == own:
        probe.key_files_set_aside((file.path.name, file.damage.value) for file in files)
