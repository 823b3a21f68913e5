"""The pipeline step in process, without a broker: the app is built, never started."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import faust

from monitoring.metrics import HubMetrics
from streams.app import create_app, create_pipeline, create_rules
from streams.hub.pipeline import Pipeline
from streams.settings import Settings
from streams.topics import inbound_topic


def step_pipeline(home: Path) -> Pipeline:
    """A pipeline with the bundled rules, its own metrics and a producer never started."""
    settings = Settings(home=home, broker_url="kafka://127.0.0.1:1")
    rules = create_rules(settings)
    metrics = HubMetrics(deadline_rules=rules.deadline_rules)
    return create_pipeline(settings, create_app(settings), rules, metrics)


def inbound_message(
    step: Pipeline, event_type: str, record: dict[str, Any], offset: int
) -> faust.types.Message:
    """``record`` as its sender's inbound topic delivers it, at ``offset`` of partition 0."""
    envelope = record["envelope"]
    return faust.types.Message(
        topic=inbound_topic(envelope["source"]),
        partition=0,
        offset=offset,
        timestamp=time.time(),
        timestamp_type=0,
        headers=[],
        key=envelope["case_id"].encode(),
        value=step.codec.encode(event_type, record),
        checksum=None,
    )
