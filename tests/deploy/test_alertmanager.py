"""The Alertmanager of ``70-monitoring.yaml``: its configuration, as the pod renders it, routes.

The init container's own script (from the committed manifest) is run with the POSIX shell on
the ConfigMap's template and a Secret's values, as the pod runs it; ``amtool`` (Debian's
``prometheus-alertmanager``) then checks the file and routes test alerts through it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from streams.contract.alerting import CONFIG_DIR, RECEIVERS_SECRET, TEMPLATE_DIR
from tests.deploy.manifests import of_kind, pod_spec
from tests.monitoring.amtools import amtool, receivers_of

ONCALL = "https://events.example.go.id/v1/alertmanager?routing=kawal&token=a1b2#page"
TICKET = "http://tickets.kawal.svc:8080/hooks/kawal"
HEARTBEAT = "https://hc-ping.example.go.id/5f0c-kawal"


def _alertmanager() -> tuple[dict[str, Any], dict[str, Any]]:
    (workload,) = [
        w for w in of_kind("StatefulSet") if w["metadata"]["name"] == "kawal-alertmanager"
    ]
    (config_map,) = [
        c for c in of_kind("ConfigMap") if c["metadata"]["name"] == "kawal-alertmanager"
    ]
    return workload, config_map


def render(tmp: Path, secret: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the init container's script on the ConfigMap, with the Secret's keys as its env."""
    workload, config_map = _alertmanager()
    (init,) = pod_spec(workload)["initContainers"]
    env = {}
    for variable in init["env"]:
        reference = variable["valueFrom"]["secretKeyRef"]
        assert reference["name"] == RECEIVERS_SECRET
        if reference["key"] in secret:
            env[variable["name"]] = secret[reference["key"]]
    (tmp / "template").mkdir()
    (tmp / "config").mkdir()
    (tmp / "template" / "alertmanager.yml").write_text(config_map["data"]["alertmanager.yml"])
    script = init["command"][2].replace(TEMPLATE_DIR, str(tmp / "template"))
    script = script.replace(CONFIG_DIR, str(tmp / "config"))
    return subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True)


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    done = render(
        tmp_path, {"oncall-url": ONCALL, "ticket-url": TICKET, "heartbeat-url": HEARTBEAT}
    )
    assert done.returncode == 0, done.stderr
    return tmp_path / "config" / "alertmanager.yml"


def test_the_rendered_configuration_passes_amtool_check(rendered: Path) -> None:
    checked = amtool("check-config", str(rendered))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout
    assert ONCALL in rendered.read_text()
    assert TICKET in rendered.read_text()
    assert HEARTBEAT in rendered.read_text()


def test_the_template_with_its_placeholders_is_refused(tmp_path: Path) -> None:
    # Loaded unrendered, no alert would go anywhere: Alertmanager refuses it outright.
    _, config_map = _alertmanager()
    template = tmp_path / "alertmanager.yml"
    template.write_text(config_map["data"]["alertmanager.yml"])
    checked = amtool("check-config", str(template))
    assert checked.returncode != 0
    assert "unsupported scheme" in checked.stdout + checked.stderr


def test_a_page_goes_to_oncall_and_a_ticket_to_the_ticket_receiver(rendered: Path) -> None:
    assert receivers_of(rendered, "alertname=KawalProcessDown", "severity=page") == "oncall"
    assert receivers_of(rendered, "alertname=KawalDeadLetterBurst", "severity=ticket") == "ticket"
    # An alert without a severity of ours is not dropped: it becomes a ticket.
    assert receivers_of(rendered, "alertname=Other") == "ticket"
    assert receivers_of(rendered, "alertname=KawalWatchdog", "severity=heartbeat") == "heartbeat"
    # Notifications failing: told through the ticket queue as well, should paging be the one.
    failing = ("alertname=KawalNotificationsFailing", "severity=page")
    assert receivers_of(rendered, *failing) == "ticket,oncall"


def test_a_wrong_expectation_fails_the_routing_test(rendered: Path) -> None:
    routed = amtool(
        "config", "routes", "test", f"--config.file={rendered}", "--verify.receivers=oncall",
        "severity=ticket",
    )  # fmt: skip
    assert routed.returncode != 0


@pytest.mark.parametrize(
    ("secret", "said"),
    [
        (
            {"ticket-url": TICKET, "heartbeat-url": HEARTBEAT},
            "kawal-alertmanager-receivers: key oncall-url is not an http:// or https:// URL",
        ),
        (
            {"oncall-url": ONCALL, "ticket-url": "CHANGE-ME", "heartbeat-url": HEARTBEAT},
            "key ticket-url is not an http",
        ),
        ({"oncall-url": ONCALL, "ticket-url": TICKET}, "key heartbeat-url is not an http"),
        (
            {
                "oncall-url": "https://a.example/x y",
                "ticket-url": TICKET,
                "heartbeat-url": HEARTBEAT,
            },
            "key oncall-url holds",
        ),
    ],
)
def test_a_missing_or_bad_receiver_url_stops_the_pod_naming_the_key(
    tmp_path: Path, secret: dict[str, str], said: str
) -> None:
    done = render(tmp_path, secret)
    assert done.returncode == 1
    assert said in done.stderr
    for value in secret.values():  # a URL may carry a token: never printed
        assert value not in done.stderr


def test_alertmanager_runs_the_official_pinned_image_with_probes() -> None:
    workload, _ = _alertmanager()
    spec = pod_spec(workload)
    for container in [*spec["initContainers"], *spec["containers"]]:
        assert container["image"].startswith("prom/alertmanager:v0.")
    (container,) = spec["containers"]
    assert {"readinessProbe", "livenessProbe"} <= set(container)
    (service,) = [s for s in of_kind("Service") if s["metadata"]["name"] == "kawal-alertmanager"]
    assert service["spec"]["ports"][0]["port"] == 9093
