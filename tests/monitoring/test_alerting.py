"""Alerts reach people: Prometheus sends to Alertmanager, which routes pages and tickets.

Real Prometheus and Alertmanager (Debian's ``prometheus`` and ``prometheus-alertmanager``) on
loopback, and a real HTTP server standing in for the on-call and ticket systems' webhooks.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from monitoring.alerting import alertmanager_config
from monitoring.scrape import RULES_FILE, prometheus_config, write_prometheus_config
from streams.local.monitoring import NO_ALERTMANAGER, LocalPrometheus, for_hub
from streams.local.processes import free_port
from streams.settings import Settings
from tests.monitoring.amtools import listed_alerts, post_alerts, start_alertmanager, write_config
from tests.monitoring.prometheus_api import query, targets, wait_until
from tests.monitoring.promtools import ROOT, promtool

TARGETS = {"kawal-worker": ["127.0.0.1:6066"], "kawal-sink": ["127.0.0.1:6067"]}
DOCS = "https://docs.example.go.id/kawal"


@pytest.mark.parametrize("alertmanager", [None, "http://127.0.0.1:9093", "https://am.example/am"])
def test_the_alerting_section_is_there_exactly_when_an_alertmanager_is_given(
    tmp_path: Path, alertmanager: str | None
) -> None:
    config = prometheus_config(TARGETS, alertmanager=alertmanager, runbooks=DOCS)
    path = write_prometheus_config(tmp_path / "prometheus.yml", config)
    checked = promtool("check", "config", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert config["global"]["external_labels"] == {"kawal_runbooks": DOCS}
    if alertmanager is None:
        assert "alerting" not in config
        return
    (sent_to,) = config["alerting"]["alertmanagers"]
    assert sent_to["static_configs"] == [{"targets": [alertmanager.split("/")[2]]}]
    assert sent_to["scheme"] == alertmanager.split(":")[0]
    assert sent_to.get("path_prefix") == ("/am" if alertmanager.endswith("/am") else None)


def test_up_sends_to_the_alertmanager_of_the_setting_with_its_runbook_base() -> None:
    settings = Settings(
        prometheus_port=free_port(),
        alertmanager_url="http://127.0.0.1:9093/",
        runbook_base_url=DOCS,
    )
    config = for_hub(settings, connectors=False).config
    (sent_to,) = config["alerting"]["alertmanagers"]
    assert sent_to["static_configs"] == [{"targets": ["127.0.0.1:9093"]}]
    assert config["global"]["external_labels"] == {"kawal_runbooks": DOCS}
    # The alert path is scraped too: its metrics say when notifications fail.
    scraped = {job["job_name"]: job["static_configs"] for job in config["scrape_configs"]}
    assert scraped["kawal-alertmanager"] == [{"targets": ["127.0.0.1:9093"]}]
    assert scraped["kawal-prometheus"] == [{"targets": [f"127.0.0.1:{settings.prometheus_port}"]}]
    # Unset: the runbooks of this checkout, which open on this machine.
    config = for_hub(Settings(prometheus_port=free_port()), connectors=False).config
    assert "alerting" not in config
    assert {job["job_name"] for job in config["scrape_configs"]} == {"kawal-worker", "kawal-sink"}
    runbooks = config["global"]["external_labels"]["kawal_runbooks"]
    assert runbooks == (ROOT / "docs").as_uri()


@pytest.mark.parametrize(
    "url", ["ftp://am.example", "127.0.0.1:9093", "http://user:pw@am.example", "http://a/?q=1"]
)
def test_an_alertmanager_url_that_is_no_base_url_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="must be a"):
        Settings(alertmanager_url=url)
    with pytest.raises(ValidationError, match="must be a"):
        Settings(runbook_base_url=url)


class Webhooks:
    """An HTTP server recording every notification POSTed to it, by path.

    A path under ``/broken`` answers 500, as a receiver that is down does.
    """

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.path, json.loads(body)))
                self.send_response(500 if self.path.startswith("/broken") else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def webhooks() -> Iterator[Webhooks]:
    hooks = Webhooks()
    yield hooks
    hooks.server.shutdown()


@pytest.fixture
def alertmanager(tmp_path: Path, webhooks: Webhooks) -> Iterator[str]:
    hooks = (f"{webhooks.url}/{name}" for name in ("oncall", "ticket", "heartbeat"))
    config = alertmanager_config(*hooks)
    path = write_config(tmp_path / "alertmanager.yml", config)
    child, url = start_alertmanager(path, tmp_path)
    yield url
    child.stop(10.0)


def _alert(name: str, severity: str, **labels: str) -> dict[str, Any]:
    return {"labels": {"alertname": name, "severity": severity, **labels}, "annotations": {}}


def _inhibited(alertmanager: str) -> dict[str, bool]:
    return {
        a["labels"]["alertname"]: bool(a["status"]["inhibitedBy"])
        for a in listed_alerts(alertmanager)
    }


def test_a_worker_down_silences_the_stall_it_causes_and_nothing_else(alertmanager: str) -> None:
    post_alerts(alertmanager, [_alert("KawalPipelineStalled", "page")])
    assert _inhibited(alertmanager) == {"KawalPipelineStalled": False}
    post_alerts(
        alertmanager,
        [
            _alert("KawalProcessDown", "page", job="kawal-worker", instance="w:6066"),
            _alert("KawalSinkStalled", "page"),
        ],
    )
    assert _inhibited(alertmanager) == {
        "KawalPipelineStalled": True,
        "KawalProcessDown": False,
        "KawalSinkStalled": False,  # the sink is not the worker: it still pages
    }


def test_a_firing_page_reaches_the_oncall_webhook_with_an_absolute_runbook(
    tmp_path: Path, alertmanager: str, webhooks: Webhooks
) -> None:
    # The runbook annotation as rules.yml writes it, on a rule that fires at once.
    groups = yaml.safe_load(RULES_FILE.read_text())["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    (down,) = [rule for rule in rules if rule.get("alert") == "KawalProcessDown"]
    firing = {
        "alert": "KawalProcessDown",
        "expr": 'label_replace(vector(0), "job", "kawal-worker", "", "")',
        # Firing once Prometheus found its Alertmanager (its discovery reports every 5 s): a
        # send before that is dropped and repeated a minute later (--rules.alert.resend-delay).
        "for": "10s",
        "labels": {"severity": "page"},
        "annotations": {"runbook_url": down["annotations"]["runbook_url"]},
    }
    rules_file = tmp_path / "rules.yml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "t", "rules": [firing]}]}))
    prometheus = LocalPrometheus(
        tmp_path / "prometheus",
        free_port(),
        {},
        interval_seconds=1,
        rules=rules_file,
        alertmanager=alertmanager,
        runbooks=DOCS + "/",
    )
    prometheus.start()
    try:
        wait_until(lambda: [] if listed_alerts(alertmanager) else ["no alert"], "Alertmanager", 60)
        (listed,) = listed_alerts(alertmanager)
        assert listed["annotations"]["runbook_url"] == f"{DOCS}/operations.md#kawalprocessdown"
        assert [r["name"] for r in listed["receivers"]] == ["oncall"]
        # Pages wait 30 s for the rest of their group, then go out.
        wait_until(lambda: [] if webhooks.received else ["no page"], "the on-call webhook", 90)
    finally:
        prometheus.stop()
    path, notification = webhooks.received[0]
    assert path == "/oncall"
    assert notification["status"] == "firing"
    assert notification["commonLabels"]["alertname"] == "KawalProcessDown"


def test_without_an_alertmanager_prometheus_says_once_that_alerts_reach_nobody(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prometheus = LocalPrometheus(tmp_path, free_port(), {}, interval_seconds=1)
    assert "alerting" not in prometheus.config
    prometheus.start()
    try:
        assert capsys.readouterr().err.count(NO_ALERTMANAGER) == 1
        prometheus.stop()
        prometheus.keep_alive()  # a restart does not say it again
        assert NO_ALERTMANAGER not in capsys.readouterr().err
    finally:
        prometheus.stop()


def _expr(alert: str) -> str:
    groups = yaml.safe_load(RULES_FILE.read_text())["groups"]
    (rule,) = [rule for group in groups for rule in group["rules"] if rule.get("alert") == alert]
    expr: str = rule["expr"]
    return expr


def _with_rules(tmp_path: Path, alertmanager: str) -> LocalPrometheus:
    """Prometheus with the hub's own rules, sending to ``alertmanager``, scraping it and itself.

    The watchdog waits 6 s before it fires: Prometheus finds its Alertmanager within 5 s, and a
    send before that is dropped and repeated only a minute later (--rules.alert.resend-delay).
    """
    rules = yaml.safe_load(RULES_FILE.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == "KawalWatchdog":
                rule["for"] = "6s"
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules))
    prometheus = LocalPrometheus(
        tmp_path / "prometheus",
        free_port(),
        {},
        interval_seconds=1,
        rules=tmp_path / "rules.yml",
        alertmanager=alertmanager,
    )
    prometheus.start()
    return prometheus


def _beats(webhooks: Webhooks) -> list[dict[str, Any]]:
    return [notification for path, notification in webhooks.received if path == "/heartbeat"]


def test_the_watchdog_reaches_the_heartbeat_webhook_and_the_alert_path_is_scraped(
    tmp_path: Path, alertmanager: str, webhooks: Webhooks
) -> None:
    prometheus = _with_rules(tmp_path, alertmanager)
    try:
        wait_until(
            lambda: [] if _beats(webhooks) else ["no heartbeat"], "the heartbeat webhook", 90
        )
        health = {t["labels"]["job"]: t["health"] for t in targets(prometheus.url)}
    finally:
        prometheus.stop()
    assert {a["labels"]["alertname"] for a in _beats(webhooks)[0]["alerts"]} == {"KawalWatchdog"}
    assert health == {"kawal-alertmanager": "up", "kawal-prometheus": "up"}


def test_a_refusing_webhook_shows_in_the_expression_of_kawal_notifications_failing(
    tmp_path: Path, webhooks: Webhooks
) -> None:
    hooks = (f"{webhooks.url}/{name}" for name in ("oncall", "ticket", "broken/heartbeat"))
    config = write_config(tmp_path / "alertmanager.yml", alertmanager_config(*hooks))
    child, url = start_alertmanager(config, tmp_path)
    prometheus = _with_rules(tmp_path, url)
    try:
        failing = _expr("KawalNotificationsFailing")
        wait_until(
            lambda: [] if query(prometheus.url, failing) else ["no failure"], "Alertmanager", 150
        )
        (found,) = query(prometheus.url, failing)
    finally:
        prometheus.stop()
        child.stop(10.0)
    assert found["metric"]["job"] == "kawal-alertmanager"
    assert found["metric"]["integration"] == "webhook"


def test_an_unreachable_alertmanager_shows_in_the_expression_of_kawal_alerts_undelivered(
    tmp_path: Path,
) -> None:
    prometheus = _with_rules(tmp_path, f"http://127.0.0.1:{free_port()}")  # nothing listens
    try:
        undelivered = _expr("KawalAlertsUndelivered")
        wait_until(
            lambda: [] if query(prometheus.url, undelivered) else ["no error"], "Prometheus", 150
        )
        (found,) = query(prometheus.url, undelivered)
    finally:
        prometheus.stop()
    assert found["metric"]["job"] == "kawal-prometheus"
