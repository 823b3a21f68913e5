"""Every process can log JSON, and a canary personal-data value reaches no log line.

A worker, an audit sink and a connector log JSON; a report carrying canary personal data is
accepted, sent again (a duplicate) and sent to another institution's topic (refused); the
connector dead-letters a decree. Every line of every log is a JSON object, the refusals carry
their ids and reason codes, and no canary appears anywhere.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from connectors.ppk.simulator import DecreeRegistry
from streams.local.embedded import EmbeddedBroker
from streams.local.processes import ChildProcess
from streams.topics import inbound_topic
from tests.hubtools import RunningHub, report, start_hub

pytestmark = pytest.mark.slow

WAIT_SECONDS = 90.0
CANARY_NAME = "Kanari Widodo Sembiring"
CANARY_NIP = "197705052003121777"
CANARY_REPORTER = "Pelapor Kanari Rahasia"


@pytest.fixture
def json_hub(
    own_broker: EmbeddedBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunningHub]:
    monkeypatch.setenv("KAWAL_LOG_FORMAT", "json")
    monkeypatch.setenv("KAWAL_LOG_LEVEL", "debug")  # the most a process says
    running = start_hub(own_broker.url, tmp_path / "hub")
    try:
        yield running
    finally:
        running.stop()


def log_entries(path: Path) -> list[dict[str, Any]]:
    """Every log line as JSON, the supervisor's start marker left out; fails on any other."""
    entries = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("--- ") or not line.strip():
            continue
        entry = json.loads(line)  # raises on a line that is not one JSON object
        assert isinstance(entry, dict)
        entries.append(entry)
    return entries


def wait_for(path: Path, match: dict[str, str], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if path.exists():
            lines = [line for line in path.read_text(errors="replace").splitlines() if line]
            for line in lines:
                if line.startswith("{") and match.items() <= json.loads(line).items():
                    return
        time.sleep(0.5)
    raise AssertionError(f"{what}: no log line with {match} in {path}")


def test_no_canary_reaches_any_log_line(
    json_hub: RunningHub, own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    hub = json_hub
    first = report()
    first |= {"subject_name": CANARY_NAME, "subject_nip": CANARY_NIP}
    first |= {"reporter_identity": CANARY_REPORTER, "summary": f"{CANARY_NAME} campaigned"}
    case_id = first["envelope"]["case_id"]
    event_id = first["envelope"]["event_id"]
    hub.step("ReportReceived", first)
    hub.publish("ReportReceived", first)  # a duplicate
    signed = hub.signed("ReportReceived", first)
    producer = KafkaProducer(bootstrap_servers=hub.bootstrap, acks="all")
    producer.send(inbound_topic("bkn"), key=case_id.encode(), value=signed).get(30)
    producer.close()
    registry = DecreeRegistry.on_sqlite(tmp_path / "ppk")
    registry.write_invalid_decree()
    config = tmp_path / "ppk.toml"
    config.write_text(
        f'institution = "ppk.3374"\ndatabase_url = "{registry.url}"\npoll_seconds = 0.5\n'
    )
    env = dict(
        os.environ,
        KAWAL_HOME=str(hub.home),
        KAWAL_BROKER_URL=own_broker.url,
        KAWAL_CONNECTOR_METRICS_PORT="0",
        KAWAL_LOG_FORMAT="json",
        KAWAL_LOG_LEVEL="debug",
    )
    command = [sys.executable, "-m", "streams.cli", "connector", "run", "ppk-decrees"]
    connector = ChildProcess(
        "connector", [*command, "--config", str(config)], tmp_path / "ppk.log", env=env
    )
    connector.start()
    try:
        worker_log = hub.home / "worker.log"
        for reason in ("duplicate_event", "source_mismatch"):
            wanted = {"reason": reason, "stage": "ingress", "case_id": case_id}
            wait_for(worker_log, wanted | {"event_id": event_id}, f"no {reason} refusal")
        wait_for(tmp_path / "ppk.log", {"stage": "connector"}, "no connector dead letter")
    finally:
        connector.stop(20)
    logs = [hub.home / "worker.log", hub.home / "sink.log", tmp_path / "ppk.log"]
    for path in logs:
        assert log_entries(path), f"{path.name} logged nothing"
        text = path.read_text(errors="replace")
        leaked = [c for c in (CANARY_NAME, CANARY_NIP, CANARY_REPORTER) if c in text]
        assert leaked == [], path.name
