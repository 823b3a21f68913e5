"""Prometheus metrics of the hub.

Labels are closed vocabularies (stage, outcome, reason code, deadline rule id); never an
identifier of a case or a person, so no personal data can reach a metric label.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

#: Processing time buckets in seconds, from 0.5 ms to 5 s.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)


class Stage(StrEnum):
    """Pipeline stages that count events."""

    INGRESS = "ingress"
    LEDGER = "ledger"
    SINK = "sink"
    ROUTER = "router"


class Outcome(StrEnum):
    """What a stage did with an event."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


class HubMetrics:
    """The hub's metrics on their own registry (one per worker; tests make their own)."""

    def __init__(
        self, registry: CollectorRegistry | None = None, deadline_rules: Iterable[str] = ()
    ) -> None:
        """Metrics on ``registry`` (a new one if None); ``deadline_rules`` are the rule ids."""
        self.registry = registry or CollectorRegistry()
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
        self._prime(deadline_rules)

    def _prime(self, deadline_rules: Iterable[str]) -> None:
        # Export every series at zero so dashboards and alerts see them before the first event;
        # keep the children, as looking one up by labels costs more than counting with it.
        self._events = {
            (stage, outcome): self.events.labels(stage=stage, outcome=outcome)
            for stage in Stage
            for outcome in Outcome
        }
        self._seconds = {stage: self.processing_seconds.labels(stage=stage) for stage in Stage}
        for rule in deadline_rules:
            self.provisional_deadlines.labels(rule=rule)

    def count(self, stage: Stage, outcome: Outcome, n: int = 1) -> None:
        """Count ``n`` events of ``stage`` with ``outcome``."""
        self._events[stage, outcome].inc(n)

    def observe(self, stage: Stage, seconds: float) -> None:
        """Record the time ``stage`` spent on one event."""
        self._seconds[stage].observe(seconds)

    def reject(self, stage: Stage, reason: str) -> None:
        """Count one rejected event with its reason code."""
        self.count(stage, Outcome.REJECTED)
        self.rejections.labels(stage=stage, reason=reason).inc()

    def provisional_deadline(self, rule: str) -> None:
        """Count one clock of deadline rule ``rule`` started with a provisional due date."""
        self.provisional_deadlines.labels(rule=rule).inc()

    def exposition(self) -> bytes:
        """The registry in Prometheus text format."""
        return generate_latest(self.registry)
