"""Grafana shows the dashboards in both deployments, provisioned from one source.

Grafana cannot be installed here, so its provisioning files are checked against the format its
documentation gives ("Provision Grafana"; tests/monitoring/grafana_checks.py), and Compose's
service and Kubernetes' ConfigMaps as data. That the committed files are current is
test_compose_alertmanager.py's and test_kubernetes.py's (the generators' ``--check``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from streams.contract.compose import main as compose_main
from streams.contract.grafana import (
    COMPOSE_DIR,
    DASHBOARD_LABEL,
    DASHBOARDS_DIR,
    DATASOURCE_LABEL,
    DATASOURCE_UID,
    KUBERNETES_PROMETHEUS_URL,
)
from tests.deploy.manifests import ROOT, of_kind
from tests.monitoring.grafana_checks import (
    dashboard_problems,
    datasource_file_problems,
    provider_file_problems,
)

COMPOSE = ROOT / "deploy" / "compose.yaml"
#: kubectl apply keeps a copy of each object in an annotation of at most this many bytes.
LAST_APPLIED_LIMIT = 262_144


def compose_services() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    return found


def provisioning(kind: str) -> Any:
    return yaml.safe_load((ROOT / COMPOSE_DIR / kind / "kawal.yaml").read_text())


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """A service's bind mounts: container path by host path (relative to deploy/)."""
    found = {}
    for volume in service["volumes"]:
        source, target, *_ = volume.split(":")
        found[target] = source
    return found


def test_compose_grafana_mounts_its_provisioning_and_the_dashboards() -> None:
    grafana = compose_services()["grafana"]
    image, tag = grafana["image"].split(":")
    assert image == "grafana/grafana"
    assert tag[0].isdigit()
    mounted = mounts(grafana)
    for kind in ("datasources", "dashboards"):
        assert mounted[f"/etc/grafana/provisioning/{kind}"] == f"./grafana/provisioning/{kind}"
        assert (COMPOSE.parent / mounted[f"/etc/grafana/provisioning/{kind}"]).is_dir()
    (provider,) = provisioning("dashboards")["providers"]
    dashboards = mounted[provider["options"]["path"]]
    assert (COMPOSE.parent / dashboards).resolve() == DASHBOARDS_DIR.resolve()
    assert all(v.endswith(":ro") for v in grafana["volumes"] if v.startswith("."))
    assert "/api/health" in " ".join(grafana["healthcheck"]["test"])
    assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD__FILE"] == (
        "/run/secrets/grafana_admin_password"
    )


def test_compose_provisioning_gives_every_dashboard_its_data_source() -> None:
    datasources = provisioning("datasources")
    assert datasource_file_problems(datasources) == []
    assert provider_file_problems(provisioning("dashboards")) == []
    (source,) = datasources["datasources"]
    assert source["uid"] == DATASOURCE_UID
    assert source["type"] == "prometheus"
    # The compose Prometheus, by service name and the port it listens on.
    assert source["url"] == "http://prometheus:9090"
    assert "127.0.0.1:9090:9090" in compose_services()["prometheus"]["ports"]
    for path in sorted(DASHBOARDS_DIR.glob("*.json")):
        assert dashboard_problems(json.loads(path.read_text()), source["uid"]) == [], path.name


def test_compose_alertmanager_has_a_health_check_like_the_other_services() -> None:
    services = compose_services()
    check = " ".join(services["alertmanager"]["healthcheck"]["test"])
    assert "http://127.0.0.1:9093/-/healthy" in check
    assert check.startswith("CMD wget")  # the image's BusyBox has wget, not curl


def test_kubernetes_has_a_sidecar_config_map_per_dashboard_holding_its_file() -> None:
    maps = [m for m in of_kind("ConfigMap") if DASHBOARD_LABEL in m["metadata"]["labels"]]
    files = {path.name: path.read_text() for path in sorted(DASHBOARDS_DIR.glob("*.json"))}
    assert sorted(name for m in maps for name in m["data"]) == sorted(files)
    for config_map in maps:
        assert config_map["metadata"]["labels"][DASHBOARD_LABEL] == "1"
        ((name, text),) = config_map["data"].items()
        assert text == files[name]  # the file itself, byte for byte
        assert len(json.dumps(config_map).encode()) < LAST_APPLIED_LIMIT


def test_kubernetes_has_the_data_source_the_dashboards_name() -> None:
    (config_map,) = [m for m in of_kind("ConfigMap") if DATASOURCE_LABEL in m["metadata"]["labels"]]
    assert config_map["metadata"]["labels"][DATASOURCE_LABEL] == "1"
    ((_, text),) = config_map["data"].items()
    provisioned = yaml.safe_load(text)
    assert datasource_file_problems(provisioned) == []
    (source,) = provisioned["datasources"]
    assert (source["uid"], source["url"]) == (DATASOURCE_UID, KUBERNETES_PROMETHEUS_URL)
    compose_source = provisioning("datasources")["datasources"][0]
    # One source, two URLs; the default only where it is Grafana's only data source.
    assert {**source, "url": None} == {**compose_source, "url": None, "isDefault": False}
    assert compose_source["isDefault"] is True


def test_a_stale_provisioning_file_is_found_by_the_check(tmp_path: Path) -> None:
    assert compose_main(["--root", str(tmp_path)]) == 0
    path = tmp_path / COMPOSE_DIR / "datasources" / "kawal.yaml"
    path.write_text(path.read_text().replace(DATASOURCE_UID, "prometheus"))
    assert compose_main(["--root", str(tmp_path), "--check"]) == 1


def test_provisioning_grafana_would_not_load_is_refused() -> None:
    assert datasource_file_problems({"datasources": []}) != []
    assert datasource_file_problems({"apiVersion": 1, "datasources": []}) == ["no datasources list"]
    nameless = {"apiVersion": 1, "datasources": [{"type": "prometheus", "uid": "a b"}]}
    problems = datasource_file_problems(nameless)
    assert any("lacks name, access, url" in p for p in problems)
    assert any("uid 'a b'" in p for p in problems)
    writable = {
        "apiVersion": 1,
        "providers": [{"name": "k", "type": "file", "options": {"path": "dashboards"}}],
    }
    problems = provider_file_problems(writable)
    assert any("absolute options.path" in p for p in problems)
    assert any("read-only" in p for p in problems)
    assert provider_file_problems({"apiVersion": 1}) == ["no providers list"]
