"""Prometheus metrics of the hub.

Labels are closed vocabularies (stage, outcome, reason code, deadline rule id); never an
identifier of a case or a person, so no personal data can reach a metric label.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from monitoring.build import register_build_info
from monitoring.process_registry import process_registry

#: Processing time buckets in seconds, from 0.5 ms to 5 s.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
#: Audit-store transaction buckets in seconds, from 1 ms to 30 s (a retried outage included).
WRITE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 30.0)


class Stage(StrEnum):
    """Pipeline stages that count events."""

    INGRESS = "ingress"
    LEDGER = "ledger"
    SINK = "sink"
    ROUTER = "router"


class Outcome(StrEnum):
    """What a stage did with an event: each event a stage handles counts one outcome."""

    ACCEPTED = "accepted"
    #: Dead-lettered.
    REJECTED = "rejected"
    #: A copy of an event already taken: refused as such, redelivered, or already stored.
    DUPLICATE = "duplicate"


class Where(StrEnum):
    """Where the hub found a trail that does not verify."""

    #: A trail view read from the audit store (``GET /cases/{id}/trail``, the page).
    TRAIL_VIEW = "trail_view"
    #: An entry the hub made, read by the audit sink for a place the store holds with an entry
    #: of another hash: the worker's case state and the stored trail diverged, or the stored
    #: entry was forged before the sink checked entries (the sink's log says which).
    AUDIT_SINK = "audit_sink"


#: The roles in which a case names an institution that may not be registered (yet).
UNROUTED_ROLES = ("ppk", "regional_inspectorate")


class Timer(StrEnum):
    """The timers whose interval a process exports (``kawal_timer_interval_seconds``)."""

    CONSUMER_LAG = "consumer_lag"
    CASE_CENSUS = "case_census"
    RETENTION = "retention"


class HubMetrics:
    """The hub's metrics on their own registry (one per worker; tests make their own)."""

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        deadline_rules: Iterable[str] = (),
        *,
        role: str = "worker",
        rejection_reasons: Mapping[Stage, Iterable[str]] | None = None,
        refusal_reasons: Iterable[str] = (),
        vault: bool = True,
        stages: Iterable[Stage] = tuple(Stage),
    ) -> None:
        """Metrics on ``registry`` (a new one if None); ``deadline_rules`` are the rule ids.

        ``role`` (worker or sink) goes into ``kawal_build_info``; the process and platform
        collectors are added to a registry made here (a given one may have them already).
        ``rejection_reasons`` are the reason codes each stage of this process can dead-letter
        a record for, ``refusal_reasons`` those of a refused HTTP credential: their series
        are exported at zero from the start. ``vault`` says whether the process asks the
        data-key vault (the worker does, the audit sink never): only then are
        ``kawal_vault_up`` and the retention timer's series exported, as a constant 1 would
        say a vault answered it. ``stages`` are the ones this process counts: only theirs are
        exported, as a zero of another's would read as that stage doing nothing.
        """
        self.registry = registry or process_registry()
        register_build_info(self.registry, role)
        self.events = Counter(
            "kawal_events",
            "Events handled, by pipeline stage and outcome.",
            ["stage", "outcome"],
            registry=self.registry,
        )
        self.rejections = Counter(
            "kawal_rejections",
            "Events sent to the dead-letter topic, by stage and machine-readable reason.",
            ["stage", "reason"],
            registry=self.registry,
        )
        self.processing_seconds = Histogram(
            "kawal_event_processing_seconds",
            "Time a stage spent on one event, in seconds.",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.provisional_deadlines = Counter(
            "kawal_provisional_deadlines",
            "Deadline clocks started with a provisional due date, counted on weekends only "
            "because a year they run through has no holiday data, by deadline rule.",
            ["rule"],
            registry=self.registry,
        )
        self.unsealed_feed_records = Counter(
            "kawal_unsealed_feed_records",
            "Feed records sent without the disclosures their recipient is entitled to, because "
            "the key registry lists no encryption key of the recipient valid now.",
            registry=self.registry,
        )
        self.unrouted_entries = Counter(
            "kawal_unrouted_entries",
            "Feed entries a party of their case is entitled to but did not receive, because "
            "the institution the case names in that role (its PPK, its region's inspectorate) "
            "is not registered, by role.",
            ["role"],
            registry=self.registry,
        )
        self.sender_timestamps = Counter(
            "kawal_inbound_sender_timestamps",
            "Inbound records whose timestamp, the entry's recorded_at, the broker did not stamp "
            "(CreateTime, not LogAppendTime): their sender's clock chose it.",
            registry=self.registry,
        )
        self.store_write_seconds = Histogram(
            "kawal_audit_store_write_seconds",
            "Time one audit-store transaction (a batch of entries and its offsets) took to "
            "commit, retries while the store was unreachable included, in seconds.",
            buckets=WRITE_BUCKETS,
            registry=self.registry,
        )
        self.store_write_failures = Counter(
            "kawal_audit_store_write_failures",
            "Audit-store transactions that failed (the store unreachable or refusing); the "
            "batch is retried until it is stored.",
            registry=self.registry,
        )
        self.store_up = Gauge(
            "kawal_audit_store_up",
            "1 while the audit store answers this process: the sink's last transaction (a "
            "batch or a tree head), or the last check every process makes at rest, succeeded; "
            "0 while the store is "
            "unreachable or refusing writes (the sink retries).",
            registry=self.registry,
        )
        self.hub_key_valid = Gauge(
            "kawal_hub_signing_key_valid",
            "1 while the hub's signing key this process signs with is registered and valid; 0 "
            "while none is (revoked or expired, no successor held): the process signs nothing "
            "and its events wait (checked at every signing and every 2 s).",
            registry=self.registry,
        )
        # Labels: a file's name in the hub's key folder (a key's fingerprint, public) and a
        # closed vocabulary (streams.domain.key_files.KeyFileDamage); never its content.
        self.hub_key_files_damaged = Gauge(
            "kawal_hub_key_file_damaged",
            "1 for each file in the hub's key folder (keys/kawal/*.pem) set aside at the last "
            "check: unreadable, wrong_mode (others may read it), truncated or not_a_key; the "
            "process signs with another key meanwhile, if one is valid.",
            ["file", "damage"],
            registry=self.registry,
        )
        self.vault_up = _vault_gauge(self.registry) if vault else None
        self.retention_failures = _retention_counter(self.registry) if vault else None
        self.retention_caught_up = _retention_gauge(self.registry) if vault else None
        # Measured by the process when scraped, not a timestamp compared with Prometheus's
        # clock: a scrape interval longer than the bound cannot make a broker look silent.
        self.broker_unanswered = Gauge(
            "kawal_broker_unanswered_seconds",
            "Seconds since the broker last answered this process's check (every 5 s): grows "
            "while a broker keeps its connections but answers nothing (frozen, hung host).",
            registry=self.registry,
        )
        # The alerts on a timer's age compare it with these, so they follow the settings.
        self.timer_intervals = Gauge(
            "kawal_timer_interval_seconds",
            "Seconds between two runs of a timer of this process, as set: consumer_lag "
            "(KAWAL_LAG_CHECK_SECONDS), case_census (KAWAL_DEADLINE_CHECK_SECONDS), retention "
            "(KAWAL_RETENTION_CHECK_SECONDS).",
            ["timer"],
            registry=self.registry,
        )
        # Exported beside the silence so that the alert follows KAWAL_BROKER_WAIT_SECONDS.
        self.broker_grace = Gauge(
            "kawal_broker_unanswered_grace_seconds",
            "Seconds of broker silence after which this process is not ready (/readyz 503): "
            "twice KAWAL_BROKER_WAIT_SECONDS.",
            registry=self.registry,
        )
        self.http_refusals = Counter(
            "kawal_http_refusals",
            "HTTP requests refused, by machine-readable reason: a credential refused, none sent "
            "where one is needed, a reader not entitled to what it asked for.",
            ["reason"],
            registry=self.registry,
        )
        self.chain_failures = Counter(
            "kawal_chain_verification_failures",
            "Trails read from the audit store whose hash chain or signatures do not verify, and "
            "entries that conflict with the stored trail, by where they were found.",
            ["where"],
            registry=self.registry,
        )
        # Every hub process reaches the store before it starts serving (streams.app).
        self.store_up.set(1)
        self.hub_key_valid.set(1)  # and with the hub's valid signing key
        self.vault_answered(True)
        self._writes_failing = False
        self._prime(deadline_rules, tuple(stages))
        self._prime_reasons(rejection_reasons or {}, refusal_reasons)

    def _prime(self, deadline_rules: Iterable[str], stages: tuple[Stage, ...]) -> None:
        # Export every series at zero so dashboards and alerts see them before the first event;
        # keep the children, as looking one up by labels costs more than counting with it.
        self._events = {
            (stage, outcome): self.events.labels(stage=stage, outcome=outcome)
            for stage in stages
            for outcome in Outcome
        }
        self._seconds = {stage: self.processing_seconds.labels(stage=stage) for stage in stages}
        for rule in deadline_rules:
            self.provisional_deadlines.labels(rule=rule)
        for where in Where:
            self.chain_failures.labels(where=where)
        if Stage.ROUTER in stages:
            for role in UNROUTED_ROLES:
                self.unrouted_entries.labels(role=role)

    def _prime_reasons(
        self, rejections: Mapping[Stage, Iterable[str]], refusals: Iterable[str]
    ) -> None:
        # increase() cannot count a series' first sample: a reason whose series appeared with
        # its first refusal would never raise the alerts on it.
        for stage, reasons in rejections.items():
            for reason in reasons:
                self.rejections.labels(stage=stage, reason=reason)
        for reason in refusals:
            self.http_refusals.labels(reason=reason)

    def count(self, stage: Stage, outcome: Outcome, n: int = 1) -> None:
        """Count ``n`` events of ``stage`` with ``outcome``."""
        self._events[stage, outcome].inc(n)

    def observe(self, stage: Stage, seconds: float) -> None:
        """Record the time ``stage`` spent on one event."""
        self._seconds[stage].observe(seconds)

    def reject(self, stage: Stage, reason: str, outcome: Outcome = Outcome.REJECTED) -> None:
        """Count one dead-lettered event: its reason code, and its outcome at ``stage``.

        The outcome is ``rejected``, or ``duplicate`` for a copy of an event already taken.
        """
        self.count(stage, outcome)
        self.rejections.labels(stage=stage, reason=reason).inc()

    def unrouted_entry(self, role: str) -> None:
        """Count one entry not sent to the unregistered institution of ``role`` in its case."""
        self.unrouted_entries.labels(role=role).inc()

    def provisional_deadline(self, rule: str) -> None:
        """Count one clock of deadline rule ``rule`` started with a provisional due date."""
        self.provisional_deadlines.labels(rule=rule).inc()

    def store_written(self, seconds: float) -> None:
        """Record one committed audit-store transaction and the ``seconds`` it took."""
        self.store_write_seconds.observe(seconds)
        self._writes_failing = False
        self.store_up.set(1)
        self.hub_key_valid.set(1)  # and with the hub's valid signing key

    def store_failed(self) -> None:
        """Record one failed audit-store transaction."""
        self.store_write_failures.inc()
        self._writes_failing = True
        self.store_up.set(0)

    @property
    def writes_failing(self) -> bool:
        """Whether this process's last audit-store transaction failed (none since succeeded)."""
        return self._writes_failing

    def store_checked(self, answered: bool) -> None:
        """Record whether the audit store answered a check made between transactions.

        A store that answers a query but refuses writes (a full disk) stays down until a
        transaction succeeds.
        """
        self.store_up.set(1 if answered and not self._writes_failing else 0)

    def vault_answered(self, answered: bool) -> None:
        """Record whether the data-key vault answered this process's last call or check."""
        if self.vault_up is not None:
            self.vault_up.set(1 if answered else 0)

    def hub_key_checked(self, valid: bool) -> None:
        """Record whether the hub had a valid signing key at this process's last check."""
        self.hub_key_valid.set(1 if valid else 0)

    def hub_key_files_set_aside(self, files: Iterable[tuple[str, str]]) -> None:
        """Record the files of the hub's key folder set aside, as ``(name, damage)`` pairs."""
        self.hub_key_files_damaged.clear()
        for name, damage in files:
            self.hub_key_files_damaged.labels(file=name, damage=damage).set(1)

    def retention_failed(self) -> None:
        """Count a retention run stopped by the vault, or one case it could not erase."""
        if self.retention_failures is not None:
            self.retention_failures.inc()

    def retention_done(self, moment: float) -> None:
        """Record a retention look, begun at ``moment`` (epoch s), that left no due case."""
        if self.retention_caught_up is not None:
            self.retention_caught_up.set(moment)

    def follow_broker(self, unanswered_for: Callable[[], float], grace: float) -> None:
        """Export ``unanswered_for()`` (seconds the broker has been silent) at each scrape.

        ``grace`` is the silence after which the process is not ready.
        """
        self.broker_unanswered.set_function(unanswered_for)
        self.broker_grace.set(grace)

    def timer_every(self, timer: Timer, seconds: float) -> None:
        """Record that this process's ``timer`` runs every ``seconds``."""
        self.timer_intervals.labels(timer=timer).set(seconds)

    def refuse_request(self, reason: str) -> None:
        """Count one HTTP request refused, with the refusal's reason code."""
        self.http_refusals.labels(reason=reason).inc()

    def chain_failure(self, where: Where) -> None:
        """Count one trail that did not verify."""
        self.chain_failures.labels(where=where).inc()

    def exposition(self) -> bytes:
        """The registry in Prometheus text format."""
        return generate_latest(self.registry)


def _vault_gauge(registry: CollectorRegistry) -> Gauge:
    """``kawal_vault_up`` on ``registry``: only processes that ask the vault export it."""
    return Gauge(
        "kawal_vault_up",
        "1 while the data-key vault answers the worker; 0 while its last call (a batch's "
        "data keys, or the check every 5 s) failed (unreachable, locked, disk full) or is "
        "unanswered after 10 s (a frozen database): the pipeline holds the batch and "
        "retries or waits.",
        registry=registry,
    )


def _retention_counter(registry: CollectorRegistry) -> Counter:
    """``kawal_retention_failures_total``: the worker's retention timer erases through the vault."""
    return Counter(
        "kawal_retention_failures",
        "Retention runs the data-key vault stopped (it refused, or gave no answer within "
        "10 s) and cases whose erasure failed; each is tried again at the next run.",
        registry=registry,
    )


def _retention_gauge(registry: CollectorRegistry) -> Gauge:
    """``kawal_retention_caught_up_timestamp_seconds``, set to the worker's start at first."""
    gauge = Gauge(
        "kawal_retention_caught_up_timestamp_seconds",
        "When the worker's retention timer last began a look that left no case due for "
        "erasure (every due case erased, or none due); the worker's start until its first "
        "such look. Its age grows while erasures fail or the timer does not run.",
        registry=registry,
    )
    gauge.set_to_current_time()
    return gauge
