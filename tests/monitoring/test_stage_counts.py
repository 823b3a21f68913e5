"""Each event a pipeline stage handles counts exactly one outcome in ``kawal_events_total``."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from monitoring.metrics import HubMetrics
from streams.hub.case_table import CaseBatch
from tests.hub.steptools import inbound_message, raw_message, step_pipeline
from tests.hubtools import report


def by_stage(metrics: HubMetrics) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """From the ``/metrics`` text: outcomes by stage, and events timed by stage."""
    outcomes: dict[str, dict[str, float]] = {}
    timed: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for sample in family.samples:
            stage = sample.labels.get("stage", "")
            if sample.name == "kawal_events_total" and sample.value:
                outcomes.setdefault(stage, {})[sample.labels["outcome"]] = sample.value
            elif sample.name == "kawal_event_processing_seconds_count":
                timed[stage] = sample.value
    return outcomes, timed


def test_every_event_a_stage_handles_counts_one_outcome(tmp_path: Path) -> None:
    step = step_pipeline(tmp_path)
    cases = CaseBatch({})
    event = report("bawaslu.33")

    step.decide(cases, inbound_message(step, "ReportReceived", event, 0))  # accepted
    step.decide(cases, inbound_message(step, "ReportReceived", event, 1))  # a copy: refused
    step.decide(cases, inbound_message(step, "ReportReceived", event, 0))  # redelivered
    step.decide(cases, raw_message(step, event, b"\x00 not avro", 2))  # undecodable

    outcomes, timed = by_stage(step.metrics)
    assert outcomes == {
        "ingress": {"accepted": 1, "duplicate": 2, "rejected": 1},
        "ledger": {"accepted": 1, "duplicate": 1},
        "router": {"accepted": 1, "duplicate": 1},
    }
    for stage in ("ingress", "ledger", "router"):
        assert sum(outcomes[stage].values()) == timed[stage], stage
    duplicates = step.metrics.registry.get_sample_value(
        "kawal_rejections_total", {"stage": "ingress", "reason": "duplicate_event"}
    )
    assert duplicates == 1  # the refused copy is dead-lettered all the same
