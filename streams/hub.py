"""The Faust applications of the hub and the shared parts their agents use.

:func:`create_hub` builds the app of a role and registers its agents. The worker runs the
pipeline (:mod:`streams.pipeline`: ingress, ledger and router in one step) and the deadline
timer (:mod:`streams.deadline_timer`), with the HTTP views (:mod:`streams.web`) and the
read-only page (:mod:`streams.page`). The audit sink (:mod:`streams.sink`) runs as a process
of its own, with health and metrics views: it is a consumer of ``kawal.case.audit`` like any
other, and its SQL writes, on another core, take nothing from the worker's interpreter.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, cast

import faust

from monitoring.metrics import HubMetrics
from schemas.catalog import SchemaCatalog, default_catalog
from schemas.codec import AvroCodec
from schemas.errors import KawalError
from schemas.registry import SchemaRegistryClient
from streams.authority import AuthorityMap, load_authority_map
from streams.broker import parse_broker_url
from streams.calendar import WorkingCalendar, load_calendar
from streams.deadlines import DeadlineRule, load_rules
from streams.institutions import Institution, load_institutions
from streams.outbox import Outbox, RecordProducer
from streams.router import Router
from streams.settings import Settings
from streams.store import AuditStore
from streams.topics import (
    APP_ID,
    CASE_AUDIT,
    CASE_TABLE,
    HUB_INSTITUTION,
    SINK_APP_ID,
    inbound_topic,
)

#: Largest record batch the producer builds, in bytes (Kafka's default message.max.bytes is 1 MiB).
PRODUCER_BATCH_BYTES = 512 * 1024


class ConfigurationError(KawalError):
    """The hub is configured in a way it cannot run with."""


class Role(StrEnum):
    """What a hub process runs: ``kawal worker`` or ``kawal sink``."""

    WORKER = "worker"
    SINK = "sink"


@dataclass
class Hub:
    """The app, its topics and tables, and the services every agent shares."""

    app: faust.App
    settings: Settings
    catalog: SchemaCatalog
    codec: AvroCodec
    metrics: HubMetrics
    store: AuditStore
    institutions: tuple[Institution, ...]
    inbound: faust.TopicT
    case_audit: faust.TopicT
    #: The case table (:mod:`streams.case_table`); None in the audit sink, which has none.
    case_table: Any
    router: Router
    authority_map: AuthorityMap
    redaction_key: bytes
    hub_inbound: faust.TopicT
    deadline_rules: dict[str, DeadlineRule]
    calendar: WorkingCalendar

    def institution(self, institution_id: str) -> Institution:
        """The registered institution ``institution_id`` (ingress only sees registered ones)."""
        return self._institutions_by_id[institution_id]

    def outbox(self) -> Outbox:
        """A new outbox on the app's producer (:mod:`streams.outbox`)."""
        return Outbox(cast(RecordProducer, self.app.producer), self.settings.partitions)

    def is_registered(self, institution_id: str) -> bool:
        """Whether ``institution_id`` is in the registry (and so has an outbound feed)."""
        return institution_id in self._institutions_by_id

    @cached_property
    def _institutions_by_id(self) -> dict[str, Institution]:
        return {inst.id: inst for inst in self.institutions}


def _raw_topic(app: faust.App, *names: str) -> faust.TopicT:
    # Values are Avro bytes; the codec, not Faust, owns the wire format.
    return app.topic(*names, key_type=bytes, value_type=bytes, value_serializer="raw")


def data_dir(settings: Settings, role: Role) -> Path:
    """Faust's data directory of ``role`` (the sink's inside the worker's)."""
    return settings.worker_dir if role is Role.WORKER else settings.worker_dir / role.value


def create_app(settings: Settings, role: Role = Role.WORKER) -> faust.App:
    """A Faust app configured for at-least-once processing on the configured broker.

    Each role is a consumer group of its own, serving HTTP on its own port.
    """
    if not settings.broker_url:
        raise ConfigurationError(
            "no broker: set KAWAL_BROKER_URL (kafka://host:port), or use `kawal up`, "
            "which runs the embedded broker"
        )
    endpoint = parse_broker_url(settings.broker_url)
    worker = role is Role.WORKER
    return faust.App(
        APP_ID if worker else SINK_APP_ID,
        broker=endpoint.faust_url,
        store="memory://",
        autodiscover=False,
        datadir=str(data_dir(settings, role)),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication,
        # Topics are provisioned with their real partition counts before the worker starts.
        topic_allow_declare=False,
        # No broker here offers transactions everywhere; every stage is idempotent instead.
        processing_guarantee="at_least_once",
        producer_acks=-1,
        # The outbox sends a batch's records per partition as whole batches (streams.outbox).
        producer_max_batch_size=PRODUCER_BATCH_BYTES,
        consumer_auto_offset_reset="earliest",
        # Do not wait for in-flight events on shutdown or rebalance: a batch buffered by the
        # sink is never acknowledged once its agent stops, so the wait would only run into the
        # kill. Unacknowledged events are processed again, and every stage is idempotent.
        stream_wait_empty=False,
        broker_session_timeout=settings.session_timeout,
        broker_heartbeat_interval=settings.session_timeout / 3,
        broker_commit_interval=1.0,
        web_enabled=True,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port if worker else settings.sink_port,
    )


def create_codec(settings: Settings, catalog: SchemaCatalog) -> AvroCodec:
    """The hub's codec: Confluent wire format with a registry, single-object encoding without.

    Events on ``kawal.case.events`` are always re-encoded canonically (single-object), so the
    hash chain never depends on registry ids.
    """
    if settings.schema_registry_url:
        return AvroCodec(
            catalog, registry=SchemaRegistryClient(settings.schema_registry_url, catalog)
        )
    return AvroCodec(catalog)


def create_hub(settings: Settings, role: Role = Role.WORKER) -> Hub:
    """Build the app of ``role`` and register its agents and views."""
    # Imported here: the agent modules import Hub from this module.
    from streams import deadline_timer, page, pipeline, sink, web

    app = create_app(settings, role)
    catalog = default_catalog()
    institutions = load_institutions(settings.institutions_file)
    store = AuditStore(settings.audit_url)
    store.create_schema()
    codec = create_codec(settings, catalog)
    deadline_rules = load_rules(settings.deadlines_file)
    hub = Hub(
        app=app,
        settings=settings,
        catalog=catalog,
        codec=codec,
        metrics=HubMetrics(deadline_rules=deadline_rules),
        store=store,
        institutions=institutions,
        inbound=_raw_topic(app, *(inbound_topic(inst.id) for inst in institutions)),
        case_audit=_raw_topic(app, CASE_AUDIT),
        # JSON values without a value_type: Faust's recovery cannot rebuild a plain dict type.
        # Faust serializes keys and values of these types as JSON (streams.case_table).
        case_table=app.Table(CASE_TABLE, key_type=str) if role is Role.WORKER else None,
        router=Router(catalog, codec, institutions),
        authority_map=load_authority_map(settings.authority_file),
        redaction_key=settings.redaction_key.get_secret_value().encode(),
        hub_inbound=_raw_topic(app, inbound_topic(HUB_INSTITUTION)),
        deadline_rules=deadline_rules,
        calendar=load_calendar(settings.calendar_file),
    )
    if role is Role.SINK:
        sink.register(hub)
        web.register_health(hub)
        return hub
    pipeline.register(hub)
    deadline_timer.register(hub)
    web.register(hub)
    page.register(hub)
    return hub
