"""The composition root: builds the Faust app of ``kawal worker`` or ``kawal sink``.

Everything a process shares is made here once and handed to each agent and view as exactly
what it uses: the pipeline (:mod:`streams.hub.pipeline`) gets the codec, the rules and a
producer, the audit sink (:mod:`streams.hub.sink`) the codec, the store and the tree-head
publisher (:mod:`streams.hub.heads`), the views (:mod:`streams.web`) what they read. Nothing
below this module builds a shared service.

The worker runs the pipeline, the deadline and retention timers (:mod:`streams.hub`) with the
HTTP views and the read-only page. The audit sink runs as a process of its own, with health and
metrics views: a consumer of ``kawal.case.audit`` like any other, whose SQL writes, on another
core, take nothing from the worker's interpreter.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import cast

import faust

from monitoring.metrics import HubMetrics
from monitoring.stored import StoredEntries
from schemas.catalog import SchemaCatalog, default_catalog
from schemas.codec import AvroCodec
from schemas.errors import KawalError
from schemas.registry import SchemaRegistryClient
from streams.audit.heads import HeadIssuer
from streams.audit.public_register import RegisterMode, check_setup
from streams.audit.store import AuditStore
from streams.audit.tokens import TokenStore
from streams.broker.batching import BatchingStream
from streams.broker.credentials import BrokerCredentials
from streams.broker.endpoint import parse_broker_url
from streams.broker.tables import PromptTableManager
from streams.broker.transport import resume_from
from streams.domain.authority import load_authority_map
from streams.domain.calendar import load_calendar
from streams.domain.deadlines import load_rules
from streams.domain.disclosure_policy import DisclosurePolicy, load_disclosure_policy
from streams.domain.institutions import HUB_INSTITUTION, load_institutions
from streams.domain.keyring import KeyRing
from streams.domain.keys import load_key_registry
from streams.domain.retention import load_retention_rules
from streams.hub import (
    broker_check,
    broker_time,
    deadline_timer,
    hub_key_check,
    pipeline,
    retention_timer,
    sink,
    vault_check,
    watch,
)
from streams.hub.case_store import CaseStoreKind, case_tables, store_url
from streams.hub.feed_sealing import FeedSealer
from streams.hub.heads import HeadPublisher
from streams.hub.ingress import CaseRules
from streams.hub.outbox import Outbox, PartitionCounts, RecordProducer
from streams.hub.process_metrics import sink_metrics, worker_metrics
from streams.hub.router import Router
from streams.settings import Settings
from streams.topics import (
    APP_ID,
    CASE_AUDIT,
    SINK_APP_ID,
    inbound_topic,
    inbound_topics,
)
from streams.vault.answer_deadline import BoundedVault
from streams.vault.data_keys import DataKeyVault
from streams.vault.kek_follow import followed_kek_ring
from streams.web import idle_connections, response_headers, server_tls, site, unrouted, views
from streams.web.auth import Authenticator
from streams.web.oidc import OidcConfig, OidcVerifier, jwks_url_problem

#: Events an agent's buffer holds before Faust stops fetching for it (Faust's default: 4,096):
#: one batch of each role, so the next is fetched while one is processed.
STREAM_BUFFER_EVENTS = {"worker": pipeline.BATCH_SIZE, "sink": sink.BATCH_SIZE}
#: Bytes one Fetch takes of each partition: a few dozen events, so that each round of fetches
#: brings some of every busy partition, not a megabyte of one backlog.
PARTITION_FETCH_BYTES = 64 * 1024
#: Largest record batch the producer builds, in bytes (Kafka's default message.max.bytes is 1 MiB).
PRODUCER_BATCH_BYTES = 512 * 1024


class ConfigurationError(KawalError):
    """The hub is configured in a way it cannot run with."""


class Role(StrEnum):
    """What a hub process runs: ``kawal worker`` or ``kawal sink``."""

    WORKER = "worker"
    SINK = "sink"


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
    worker = role is Role.WORKER
    app = faust.App(
        APP_ID if worker else SINK_APP_ID,
        broker=parse_broker_url(settings.broker_url).faust_url,
        broker_credentials=BrokerCredentials.from_settings(settings).faust(),
        store=store_url(CaseStoreKind(settings.case_store)),
        autodiscover=False,
        # Batches whose window opens with their first event: no timer ticks at rest.
        Stream=BatchingStream,
        # Every table is made before the worker starts: it need not wait a second for more.
        TableManager=PromptTableManager,
        datadir=str(data_dir(settings, role)),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication,
        # Topics are provisioned with their real partition counts before the worker starts.
        topic_allow_declare=False,
        # No broker here offers transactions everywhere; every stage is idempotent instead.
        processing_guarantee="at_least_once",
        # A failed agent stops its process (exit 1) to be restarted from the last commit:
        # Faust's default restarts it in place, its failed batch holding back every commit.
        agent_supervisor="mode.CrashingSupervisor",
        producer_acks=-1,
        # The outbox sends a batch's records per partition as whole batches (streams.hub.outbox).
        producer_max_batch_size=PRODUCER_BATCH_BYTES,
        consumer_auto_offset_reset="earliest",
        # Fair in bursts: each round of fetches brings a few dozen events of every busy
        # partition, Faust hands them on round-robin, and one batch's worth waits in the
        # buffer: another institution's event queues behind about two batches of a backlog,
        # not behind the megabytes fetched of it (docs/scale.md).
        stream_buffer_maxsize=STREAM_BUFFER_EVENTS[role.value],
        consumer_max_fetch_size=PARTITION_FETCH_BYTES,
        # Do not wait for in-flight events on shutdown or rebalance: a batch buffered by the
        # sink is never acknowledged once its agent stops, so the wait would only run into the
        # kill. Unacknowledged events are processed again, and every stage is idempotent.
        stream_wait_empty=False,
        broker_session_timeout=settings.session_timeout,
        broker_heartbeat_interval=settings.session_timeout / 3,
        broker_commit_interval=1.0,
        web_enabled=True,
        # Faust's /table/... would serve the case table (personal data included) to anyone,
        # and /router/... the cluster's layout; no view of the hub needs either.
        web_router_enabled=False,
        web_tables_enabled=False,
        web_ssl_context=server_tls.server_tls_context(settings.web_tls_cert, settings.web_tls_key),
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port if worker else settings.sink_port,
    )
    secured = unrouted.answer_unrouted(response_headers.secure(app), index=worker)
    return idle_connections.close_idle(secured, settings.http_idle_seconds)


def create_authenticator(
    settings: Settings,
    store: AuditStore,
    institutions: list[str],
    metrics: HubMetrics | None = None,
) -> Authenticator:
    """Resolves HTTP credentials: the store's tokens, and JWTs if an OIDC issuer is configured.

    Raises:
        ConfigurationError: an OIDC issuer without its audience or JWKS URL.
    """
    verifier = None
    if settings.oidc_issuer:
        if not settings.oidc_audience or not settings.oidc_jwks_url:
            raise ConfigurationError(
                "KAWAL_OIDC_ISSUER needs KAWAL_OIDC_AUDIENCE and KAWAL_OIDC_JWKS_URL too"
            )
        problem = jwks_url_problem(settings.oidc_jwks_url)
        if problem is not None:
            raise ConfigurationError(problem)
        verifier = OidcVerifier(
            OidcConfig(
                issuer=settings.oidc_issuer,
                audience=settings.oidc_audience,
                jwks_url=settings.oidc_jwks_url,
                institution_claim=settings.oidc_institution_claim,
            )
        )
    on_refusal = metrics.refuse_request if metrics is not None else None
    return Authenticator(TokenStore(store.engine), frozenset(institutions), verifier, on_refusal)


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


def create_store(settings: Settings) -> AuditStore:
    """The audit store, its tables created or migrated (the worker and the sink both may)."""
    store = AuditStore(settings.audit_url)
    store.create_schema(settings.home)
    return store


def create_vault(settings: Settings) -> DataKeyVault:
    """The cases' data keys under this hub's key-encryption keys, the table made or migrated.

    Raises:
        streams.vault.kek.KekError: no KEK to be read (``kawal keys init`` makes the file).
        streams.vault.database.VaultError: the vault's database cannot be reached.
    """
    vault = DataKeyVault(settings.effective_vault_url, followed_kek_ring(settings))
    vault.create_schema()
    return vault


def _raw_topic(app: faust.App, *names: str) -> faust.TopicT:
    # Values are Avro bytes; the codec, not Faust, owns the wire format.
    return app.topic(*names, key_type=bytes, value_type=bytes, value_serializer="raw")


def _outboxes(app: faust.App, settings: Settings) -> pipeline.OutboxFactory:
    counts = PartitionCounts(settings.partitions)

    def new_outbox() -> Outbox:
        return Outbox(cast(RecordProducer, app.producer), counts)

    return new_outbox


def create_rules(settings: Settings) -> CaseRules:
    """The rules ingress applies, read from their data files."""
    institutions = load_institutions(settings.institutions_file)
    keys = load_key_registry(settings.key_registry_file)
    return CaseRules(
        catalog=default_catalog(),
        institutions={inst.id: inst for inst in institutions},
        authority_map=load_authority_map(settings.authority_file),
        deadline_rules=load_rules(settings.deadlines_file),
        calendar=load_calendar(settings.calendar_file),
        keys=keys,
        hub_keys=KeyRing(settings.key_dir, keys),
        partitions=settings.partitions,
    )


def create_disclosure_policy(settings: Settings, rules: CaseRules) -> DisclosurePolicy:
    """The disclosure policy the feeds and the trail views apply, checked against the schemas."""
    return load_disclosure_policy(settings.disclosure_file, rules.catalog)


def create_pipeline(
    settings: Settings,
    app: faust.App,
    rules: CaseRules,
    metrics: HubMetrics,
    policy: DisclosurePolicy,
    vault: DataKeyVault | None = None,
) -> pipeline.Pipeline:
    """The pipeline step with the rules, disclosure policy, codec, producer and vault it applies."""
    codec = create_codec(settings, rules.catalog)
    table, index = case_tables(app, CaseStoreKind(settings.case_store))
    return pipeline.Pipeline(
        codec=codec,
        rules=rules,
        router=Router(
            rules.catalog,
            codec,
            tuple(rules.institutions.values()),
            policy,
            FeedSealer(rules.catalog, rules.keys, metrics),
        ),
        metrics=metrics,
        hub_key=hub_key_check.hub_signer(app, settings.key_dir, rules.keys, metrics),
        new_outbox=_outboxes(app, settings),
        table=table,
        index=index,
        case_keys=vault or create_vault(settings),
        sender_clocks=broker_time.SenderClocks.for_broker(metrics, settings.effective_broker_url),
    )


def create_worker(settings: Settings) -> faust.App:
    """The worker's app: pipeline, deadline and retention timers, trail views and the page."""
    # Settings that cannot work are refused before anything starts.
    check_setup(RegisterMode(settings.public_register), settings.public_register_legal_basis)
    app = create_app(settings, Role.WORKER)
    rules = create_rules(settings)
    metrics = worker_metrics(rules.deadline_rules)
    store = create_store(settings)
    policy = create_disclosure_policy(settings, rules)
    vault = create_vault(settings)
    step = create_pipeline(settings, app, rules, metrics, policy, vault)
    vault_check.register_vault_check(app, vault.answers, metrics)
    # The pipeline waits for the vault's answer; readers and the retention timer give up.
    bounded = BoundedVault(vault)
    institutions = tuple(step.rules.institutions.values())
    # For ops: every hub group's consumer lag, stray inbound records, the worker's cases.
    endpoint = parse_broker_url(cast(str, settings.broker_url))
    security = BrokerCredentials.from_settings(settings).client_kwargs()
    broker = broker_check.register_broker_check(
        app, endpoint, security, metrics, settings.broker_wait_seconds
    )
    watch.watch_lag(app, metrics, endpoint, security, lag_every := settings.lag_check_seconds)
    watch.watch_strays(app, metrics, endpoint, security, step.rules.institutions, lag_every)
    census = watch.watch_cases(metrics, step.table, step.rules, settings.history_grace_seconds)
    watch.faust_sensor(app, metrics, settings.faust_metrics)
    server_tls.watch(app, settings.web_tls_cert, settings.web_tls_key, metrics)
    pipeline.register(app, _raw_topic(app, *inbound_topics(institutions)), step)
    deadline_timer.register(
        app,
        census,
        deadline_timer.DeadlineTimer(
            rules=step.rules.deadline_rules,
            catalog=step.rules.catalog,
            codec=step.codec,
            hub_key=step.hub_key,
            keys=step.rules.keys,
            hub_inbound=_raw_topic(app, inbound_topic(HUB_INSTITUTION)),
        ),
        settings.deadline_check_seconds,
        metrics,
    )
    retention_timer.register(
        app,
        retention_timer.RetentionTimer(
            table=step.table,
            rules=load_retention_rules(settings.retention_file),
            vault=bounded,
            catalog=step.rules.catalog,
            codec=step.codec,
            hub_key=step.hub_key,
            keys=step.rules.keys,
            hub_inbound=_raw_topic(app, inbound_topic(HUB_INSTITUTION)),
            metrics=metrics,
        ),
        settings.retention_check_seconds,
    )
    auth = create_authenticator(settings, store, [inst.id for inst in institutions], metrics)
    site.register(
        app, settings, site.SiteSources(store, step, bounded, metrics, policy, auth, broker)
    )
    return app


def create_sink(settings: Settings) -> faust.App:
    """The audit sink's app: the trail into the store, tree heads out, health and metrics."""
    app = create_app(settings, Role.SINK)
    metrics = sink_metrics(Role.SINK.value)
    watch.faust_sensor(app, metrics, settings.faust_metrics)
    server_tls.watch(app, settings.web_tls_cert, settings.web_tls_key, metrics)
    store = create_store(settings)
    codec = create_codec(settings, default_catalog())
    new_outbox = _outboxes(app, settings)
    # Tree heads and dead letters sealed to the hub need the key registry and the hub's key only.
    keys = load_key_registry(settings.key_registry_file)
    signer = hub_key_check.hub_signer(app, settings.key_dir, keys, metrics)
    heads = HeadPublisher(
        HeadIssuer(store, signer, keys),
        codec,
        new_outbox,
        timedelta(seconds=settings.tree_head_seconds),
        metrics=metrics,
    )
    stored = StoredEntries(metrics.registry)
    audit_sink = sink.AuditSink(
        codec, store, metrics, keys, new_outbox, heads, stored, signer.watch.refresh
    )
    sink.register(app, _raw_topic(app, CASE_AUDIT), audit_sink)
    # The store, not the group's commits, says what it holds (a restored or new store fills up).
    resume_from(app, store.consumed_offsets)
    endpoint = parse_broker_url(cast(str, settings.broker_url))
    security = BrokerCredentials.from_settings(settings).client_kwargs()
    broker = broker_check.register_broker_check(
        app, endpoint, security, metrics, settings.broker_wait_seconds
    )
    views.register_health(app, store, metrics, broker, signer)
    return app


def create(settings: Settings, role: Role) -> faust.App:
    """The app of ``role``."""
    return create_worker(settings) if role is Role.WORKER else create_sink(settings)
