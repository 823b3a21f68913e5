"""The Alertmanager of deploy/compose.yaml: the Kubernetes routing, its URLs from secret files.

``deploy/alertmanager/start.sh`` (generated) is run with the POSIX shell as the container runs
it, on the generated template, with the secret files in a folder of the test's; ``amtool``
(Debian's ``prometheus-alertmanager``) then checks the file it wrote and routes test alerts
through it. No Docker engine runs here, so the service itself is checked as data.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.contract.alerting import (
    CONFIG_DIR,
    CONFIG_FILE,
    IMAGE,
    RECEIVER_KEYS,
    TEMPLATE_DIR,
    config_template,
)
from streams.contract.compose import (
    BINARY,
    DIRECTORY,
    SECRETS_DIR,
    compose_files,
    main,
    secret_name,
)
from tests.deploy.manifests import ROOT, of_kind
from tests.monitoring.amtools import amtool, receivers_of

COMPOSE = ROOT / "deploy" / "compose.yaml"
URLS = {
    "oncall-url": "https://events.example.go.id/v1/alertmanager?routing=kawal&token=a1b2",
    "ticket-url": "http://tickets.example.go.id:8080/hooks/kawal",
    "heartbeat-url": "https://hc-ping.example.go.id/5f0c-kawal",
}


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def start(tmp: Path, secrets: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the committed start.sh with ``secrets`` (by receiver key) as its secret files.

    Alertmanager itself is replaced by ``echo``, so the output shows the arguments it gets.
    """
    for folder in ("secrets", "config"):
        (tmp / folder).mkdir()
    for key, value in secrets.items():
        (tmp / "secrets" / secret_name(key)).write_text(value + "\n")
    script = (ROOT / DIRECTORY / "start.sh").read_text()
    script = script.replace(f"{SECRETS_DIR}/", f"{tmp / 'secrets'}/")
    script = script.replace(TEMPLATE_DIR, str(ROOT / DIRECTORY))
    script = script.replace(CONFIG_DIR, str(tmp / "config"))
    script = script.replace(f"exec {BINARY}", "exec echo")
    args = _compose()["services"]["alertmanager"]["command"]
    return subprocess.run(
        ["/bin/sh", "-c", script, "start.sh", *args], capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    done = start(tmp_path, URLS)
    assert done.returncode == 0, done.stderr
    assert f"--config.file={CONFIG_FILE}" in done.stdout  # the service's arguments reach it
    return tmp_path / "config" / "alertmanager.yml"


def test_the_committed_files_are_what_the_routing_generates(tmp_path: Path) -> None:
    for path, text in compose_files().items():
        assert (ROOT / path).read_text(encoding="utf-8") == text, f"{path} is stale"
    assert main(["--root", str(tmp_path)]) == 0
    assert main(["--root", str(tmp_path), "--check"]) == 0
    template = tmp_path / DIRECTORY / "alertmanager.yml"
    template.write_text(template.read_text().replace("repeat_interval: 4h", "repeat_interval: 9h"))
    assert main(["--root", str(tmp_path), "--check"]) == 1


def test_compose_routes_as_kubernetes_does() -> None:
    (config_map,) = [
        c for c in of_kind("ConfigMap") if c["metadata"]["name"] == "kawal-alertmanager"
    ]
    assert config_map["data"]["alertmanager.yml"] == config_template()
    assert (ROOT / DIRECTORY / "alertmanager.yml").read_text().endswith(config_template())


def test_the_rendered_configuration_passes_amtool_and_routes_each_severity(rendered: Path) -> None:
    checked = amtool("check-config", str(rendered))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    text = rendered.read_text()
    assert [url for url in URLS.values() if url not in text] == []
    assert "__KAWAL_" not in text
    assert receivers_of(rendered, "alertname=KawalProcessDown", "severity=page") == "oncall"
    assert receivers_of(rendered, "alertname=KawalLagUnknown", "severity=ticket") == "ticket"
    assert receivers_of(rendered, "alertname=KawalWatchdog", "severity=heartbeat") == "heartbeat"


@pytest.mark.parametrize(
    ("missing_or_bad", "value", "said"),
    [
        ("oncall-url", None, "secret file deploy/secrets/alertmanager_oncall_url is missing"),
        ("heartbeat-url", None, "deploy/secrets/alertmanager_heartbeat_url is missing or not"),
        ("oncall-url", "", "secret file deploy/secrets/alertmanager_oncall_url is not an http"),
        ("ticket-url", "CHANGE-ME", "deploy/secrets/alertmanager_ticket_url is not an http"),
        ("ticket-url", "https://t.example/a b", "alertmanager_ticket_url holds a quote or a space"),
    ],
)
def test_a_missing_or_bad_secret_file_stops_alertmanager_naming_the_file(
    tmp_path: Path, missing_or_bad: str, value: str | None, said: str
) -> None:
    secrets = {key: url for key, url in URLS.items() if key != missing_or_bad}
    if value is not None:
        secrets[missing_or_bad] = value
    done = start(tmp_path, secrets)
    assert done.returncode == 1
    assert said in done.stderr
    assert done.stdout == ""  # Alertmanager never started
    for url in filter(None, secrets.values()):  # a URL may carry a token: never printed
        assert url not in done.stderr


def test_the_service_runs_the_pinned_image_with_its_secret_files_and_memory_only_config() -> None:
    compose = _compose()
    service = compose["services"]["alertmanager"]
    assert service["image"] == IMAGE  # the Kubernetes manifest's
    assert service["entrypoint"] == ["/bin/sh", f"{TEMPLATE_DIR}/start.sh"]
    assert f"./alertmanager:{TEMPLATE_DIR}:ro" in service["volumes"]
    (memory,) = [v for v in service["volumes"] if isinstance(v, dict)]
    assert (memory["type"], memory["target"]) == ("tmpfs", CONFIG_DIR)
    names = {secret_name(key) for key in RECEIVER_KEYS}
    assert {secret["source"] for secret in service["secrets"]} == names
    for name in names:
        assert compose["secrets"][name] == {"file": f"./secrets/{name}"}


def test_prometheus_sends_to_it_scrapes_it_and_itself_and_labels_the_runbooks() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    (sent_to,) = config["alerting"]["alertmanagers"]
    assert sent_to["static_configs"] == [{"targets": ["alertmanager:9093"]}]
    assert _compose()["services"]["alertmanager"]["expose"] == ["9093"]
    jobs = {job["job_name"]: job.get("static_configs") for job in config["scrape_configs"]}
    assert jobs["kawal-alertmanager"] == [{"targets": ["alertmanager:9093"]}]
    assert jobs["kawal-prometheus"] == [{"targets": ["localhost:9090"]}]
    # Read from the environment, which Compose refuses to leave unset.
    assert config["global"]["external_labels"] == {"kawal_runbooks": "${KAWAL_RUNBOOK_BASE_URL}"}
    prometheus = _compose()["services"]["prometheus"]
    assert "--enable-feature=expand-external-labels" in prometheus["command"]
    required = prometheus["environment"]["KAWAL_RUNBOOK_BASE_URL"]
    assert required.startswith("${KAWAL_RUNBOOK_BASE_URL:?set it")
