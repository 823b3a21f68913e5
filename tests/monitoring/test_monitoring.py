"""A real hub under load, real connectors (one made to fail), a real Prometheus with the rules.

The acceptance test of the monitoring: the hub and its connectors are scraped, the matching
alerts fire (read from Prometheus's API; the shipped rules run with every ``for`` cut to
seconds, which ``promtool test rules`` covers at their real length), every dashboard panel's
query returns a series, and ``promtool check metrics`` passes on every process's
``/metrics``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kafka import KafkaProducer

from bench.__main__ import report as bench_report
from connectors.ppk.simulator import DecreeRegistry
from monitoring.scrape import GRAFANA_DIR, RULES_FILE
from streams.local.embedded import EmbeddedBroker
from streams.local.monitoring import LocalPrometheus
from streams.local.processes import ChildProcess, free_port
from streams.topics import inbound_topic
from tests.hubtools import RunningHub, http_get, start_hub
from tests.monitoring.prometheus_api import alerts, query, targets, wait_until
from tests.monitoring.promtools import promtool

pytestmark = pytest.mark.slow

#: Reports the bench publisher sends, and how many a second.
LOAD_EVENTS = 300
LOAD_RATE = 50.0
#: How long an alert's condition holds before it fires, in this test.
FIRING_AFTER = "3s"
#: Personal data of the load and of the test case: none of it may reach a metric.
CANARIES = ("Bench Subject", "199001012015031001", "Test Subject", "198501012010011001")


@pytest.fixture
def hub(
    own_broker: EmbeddedBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunningHub]:
    monkeypatch.setenv("KAWAL_LAG_CHECK_SECONDS", "1")
    running = start_hub(own_broker.url, tmp_path / "hub")
    try:
        yield running
    finally:
        running.stop()


def connector(
    name: str, config: str, hub: RunningHub, broker_url: str, port: int, tmp_path: Path
) -> ChildProcess:
    """``kawal connector run NAME`` with the hub's keys, serving metrics on ``port``."""
    path = tmp_path / f"{name}.toml"
    path.write_text(config)
    env = dict(
        os.environ,
        KAWAL_HOME=str(hub.home),
        KAWAL_BROKER_URL=broker_url,
        KAWAL_CONNECTOR_METRICS_PORT=str(port),
    )
    command = [sys.executable, "-m", "streams.cli", "connector", "run", name, "--config", str(path)]
    return ChildProcess(name, command, tmp_path / f"{name}.log", env=env)


def publish_load(hub: RunningHub) -> None:
    """The bench publisher's reports at :data:`LOAD_RATE` a second, then two botched records."""
    for number in range(LOAD_EVENTS):
        hub.publisher.publish("ReportReceived", bench_report(number))
        time.sleep(1 / LOAD_RATE)
    hub.publisher.flush()
    raw = KafkaProducer(bootstrap_servers=hub.bootstrap, acks="all")
    raw.send(inbound_topic("bawaslu"), key=b"not-a-case", value=b"\x00garbage").get(30)
    # A sender that misspells its institution id: the broker takes it, the pipeline never reads it.
    raw.send(inbound_topic("bawaslu.3"), key=b"lost", value=b"a signed event").get(30)
    raw.close()


def breach_follow_up(hub: RunningHub) -> None:
    """A case whose proven recommendation, issued 60 days ago, its PPK never followed up."""
    hub.wait_trail(hub.ignored_case(), 6)  # the deadline timer's DeadlineBreached


def panel_queries() -> list[tuple[str, str]]:
    """(dashboard title: panel title, query) of every panel of every dashboard."""
    found = []
    for path in sorted((GRAFANA_DIR / "dashboards").glob("*.json")):
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel["targets"]:
                found.append((f"{board['title']}: {panel['title']}", target["expr"]))
    return found


def test_alerts_fire_and_every_panel_has_data(
    hub: RunningHub, own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    registry = DecreeRegistry.on_sqlite(tmp_path / "ppk")
    registry.issue("bawaslu.33", "001/LP/PB/33/X/2024")  # a decree of a case the hub never saw
    registry.write_invalid_decree()  # dead-lettered by the connector
    working_port, failing_port = free_port(), free_port()
    retry = "[retry]\nattempts = 2\ninitial_seconds = 0.1\nmax_seconds = 0.2\n"
    working = connector(
        "ppk-decrees",
        f'institution = "ppk.3374"\ndatabase_url = "{registry.url}"\npoll_seconds = 0.5\n',
        hub,
        own_broker.url,
        working_port,
        tmp_path,
    )
    # The authority's database is down: nothing listens on its port.
    failing = connector(
        "authority-outbox",
        f'institution = "bkn"\ndatabase_url = "postgresql+psycopg://kawal@127.0.0.1:{free_port()}'
        f'/outbox"\ntimeout_seconds = 0.5\npoll_seconds = 0.5\n{retry}',
        hub,
        own_broker.url,
        failing_port,
        tmp_path,
    )
    prometheus = LocalPrometheus(
        tmp_path / "monitoring",
        free_port(),
        {
            "kawal-worker": [hub.base_url.removeprefix("http://")],
            "kawal-sink": [hub.sink_url.removeprefix("http://")],
            "kawal-connectors": [f"127.0.0.1:{working_port}", f"127.0.0.1:{failing_port}"],
        },
        interval_seconds=1,
        rules=rules_firing_within_seconds(tmp_path / "rules.yml"),
    )
    load = threading.Thread(target=publish_load, args=(hub,), daemon=True)
    try:
        working.start()
        failing.start()
        prometheus.start()
        load.start()
        status, _ = http_get(f"{hub.base_url}/cases/x/trail", token="kawal_not-a-token")
        assert status == 401  # counted as a refused credential
        breach_follow_up(hub)
        load.join(timeout=120)
        assert not load.is_alive(), "the load did not finish"

        def targets_down() -> list[str]:
            return [t["scrapeUrl"] for t in targets(prometheus.url) if t["health"] != "up"]

        wait_until(targets_down, "targets not up")

        def alerts_missing() -> list[str]:
            came = {
                (a["labels"]["alertname"], a["labels"].get("connector"))
                for a in alerts(prometheus.url)
                if a["state"] == "firing"
            }
            wanted = {
                ("KawalConnectorDown", "authority-outbox"),
                ("KawalFollowUpBreachedWithoutBlock", None),
                ("KawalStrayInboundRecords", None),
            }
            return sorted(f"{name} {who or ''}" for name, who in wanted - came)

        wait_until(alerts_missing, "alerts that did not fire")

        def empty_panels() -> list[str]:
            return [title for title, expr in panel_queries() if not query(prometheus.url, expr)]

        wait_until(empty_panels, "panels without data")
        # The working connector is not reported down.
        down = query(prometheus.url, 'kawal_connector_up{connector="ppk-decrees"} == 0')
        assert down == []
        for url in (hub.base_url, hub.sink_url, f"http://127.0.0.1:{working_port}"):
            check_exposition(url)
        # The lag was read every second (its panel has data) and the connector bootstrapped its
        # clients: kafka-python's INFO lines of each client's life stay out of the logs.
        for log in (hub.home / "worker.log", tmp_path / "ppk-decrees.log"):
            text = log.read_text(errors="replace")
            assert "INFO" in text, log.name
            assert "Attempting bootstrap" not in text, log.name
    finally:
        prometheus.stop()
        failing.stop(20)
        working.stop(20)


def rules_firing_within_seconds(path: Path) -> Path:
    """The shipped rules with every alert's ``for`` cut to :data:`FIRING_AFTER`, at ``path``."""
    rules = yaml.safe_load(RULES_FILE.read_text())
    cut = 0
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = FIRING_AFTER
                cut += 1
    assert cut > 0
    path.write_text(yaml.safe_dump(rules, sort_keys=False))
    return path


def check_exposition(base_url: str) -> None:
    """``promtool check metrics`` passes on ``/metrics``, which holds no personal data."""
    status, body = http_get(f"{base_url}/metrics")
    assert status == 200
    checked = promtool("check", "metrics", stdin=body)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    text = body.decode()
    assert [canary for canary in CANARIES if canary in text] == []
