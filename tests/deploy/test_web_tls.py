"""The worker and the sink serve HTTPS in the manifests, and Prometheus verifies it.

Their HTTP servers answer case trails (personal data for entitled institutions) and take
bearer tokens, so every container serving them reads its certificate and key from the TLS
Secret ``kawal-web-tls`` and its probes speak HTTPS; each ServiceMonitor scraping them checks
the certificate against the Secret's CA for the name of the Service. A pod is laid out as the
kubelet lays it out (:mod:`tests.deploy.kubelet`) and the hub's own code opens the Secret's
files there; a client that trusts only the Secret's CA then completes a handshake with it for
the ServiceMonitor's ``serverName``.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from streams.contract.workloads import WEB_TLS_SECRET
from streams.settings import Settings
from streams.web.server_tls import ServerCertificate, server_tls_context
from tests.deploy.custom_resources import SCHEMAS
from tests.deploy.kubelet import Pod, update_atomic_volume
from tests.deploy.manifests import ROOT, of_kind, pod_spec, settings_of
from tests.deploy.web_certificates import handshake, issued_certificates

Json = dict[str, Any]
HUB = ["kawal-worker", "kawal-sink"]


def _workload(name: str) -> Json:
    (found,) = [w for w in of_kind("Deployment") if w["metadata"]["name"] == name]
    return found


def _hub_services() -> dict[str, Json]:
    return {s["metadata"]["name"]: s for s in of_kind("Service") if s["metadata"]["name"] in HUB}


def _https_services() -> set[str]:
    """The Services whose port is named ``https``."""
    return {
        s["metadata"]["name"]
        for s in of_kind("Service")
        if any(port["name"] == "https" for port in s["spec"]["ports"])
    }


def _monitor_of(service: Json) -> Json:
    labels = service["metadata"]["labels"].items()
    (monitor,) = [
        m
        for m in of_kind("ServiceMonitor")
        if m["spec"]["selector"]["matchLabels"].items() <= labels
    ]
    return monitor


def test_the_worker_and_the_sink_serve_https_from_the_tls_secret() -> None:
    assert set(_https_services()) == set(HUB)
    for name in HUB:
        spec = pod_spec(_workload(name))
        (container,) = spec["containers"]
        settings = settings_of(container)
        assert settings.web_scheme == "https", name
        volumes = {v["name"]: v for v in spec["volumes"]}
        for path in (settings.web_tls_cert, settings.web_tls_key):
            (mount,) = [
                m for m in container["volumeMounts"] if str(path).startswith(m["mountPath"] + "/")
            ]
            assert mount["readOnly"] is True
            assert volumes[mount["name"]]["secret"]["secretName"] == WEB_TLS_SECRET
        for probe in ("readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["scheme"] == "HTTPS", (name, probe)
            assert container[probe]["httpGet"]["port"] == "https"


def test_prometheus_scrapes_the_hub_over_https_and_verifies_its_certificate() -> None:
    for name, service in _hub_services().items():
        (endpoint,) = _monitor_of(service)["spec"]["endpoints"]
        assert (endpoint["port"], endpoint["scheme"]) == ("https", "https"), name
        tls = endpoint["tlsConfig"]
        assert tls == {
            "ca": {"secret": {"name": WEB_TLS_SECRET, "key": "ca.crt"}},
            "serverName": name,
        }


def _mounted(tmp_path: Path, name: str) -> tuple[Pod, Settings]:
    """A pod of ``name`` laid out with a fresh ``kawal-web-tls``, and its TLS settings there."""
    spec = pod_spec(_workload(name))
    secrets: dict[str, dict[str, bytes]] = {
        v["secret"]["secretName"]: {} for v in spec["volumes"] if "secret" in v
    }
    secrets[WEB_TLS_SECRET] = issued_certificates(HUB)
    maps: dict[str, dict[str, bytes]] = {
        v["configMap"]["name"]: {} for v in spec["volumes"] if "configMap" in v
    }
    pod = Pod(tmp_path / "pod", _workload(name), secrets, maps)
    (container,) = spec["containers"]
    settings = settings_of(container)
    assert settings.web_tls_cert is not None
    assert settings.web_tls_key is not None
    mounted = Settings(
        web_tls_cert=pod.host_path(container, settings.web_tls_cert),
        web_tls_key=pod.host_path(container, settings.web_tls_key),
    )
    return pod, mounted


@pytest.mark.parametrize("name", HUB)
def test_the_hub_serves_the_secrets_certificate_as_kubernetes_mounts_it(
    tmp_path: Path, name: str
) -> None:
    pod, mounted = _mounted(tmp_path, name)
    server = server_tls_context(mounted.web_tls_cert, mounted.web_tls_key)
    assert server is not None

    (endpoint,) = _monitor_of(_hub_services()[name])["spec"]["endpoints"]
    ca = endpoint["tlsConfig"]["ca"]["secret"]
    prometheus = ssl.create_default_context(cafile=str(pod.volumes["web-tls"] / ca["key"]))
    handshake(server, prometheus, endpoint["tlsConfig"]["serverName"])
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(server, prometheus, "kawal-elsewhere")


def test_a_renewed_secret_is_served_once_the_kubelet_swaps_it_in(tmp_path: Path) -> None:
    pod, mounted = _mounted(tmp_path, "kawal-worker")
    server = server_tls_context(mounted.web_tls_cert, mounted.web_tls_key)
    assert server is not None
    assert mounted.web_tls_cert is not None
    assert mounted.web_tls_key is not None
    certificate = ServerCertificate(server, mounted.web_tls_cert, mounted.web_tls_key)
    renewed = issued_certificates(HUB)
    trusting_renewed = ssl.create_default_context(cadata=renewed["ca.crt"].decode())

    update_atomic_volume(pod.volumes["web-tls"], renewed, 0o400, "..2027_03_05_03_00_00.0001")
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(server, trusting_renewed, "kawal-worker")  # not loaded yet
    assert certificate.reload_if_changed() is True
    handshake(server, trusting_renewed, "kawal-worker")


def _documented_certificate() -> Json:
    """The cert-manager ``Certificate`` that docs/operations.md shows."""
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    blocks = [block.split("```", 1)[0] for block in text.split("```yaml\n")[1:]]
    (found,) = [yaml.safe_load(b) for b in blocks if "kind: Certificate" in b]
    certificate: Json = found
    return certificate


def test_the_documented_certificate_writes_the_secret_for_every_scraped_name() -> None:
    certificate = _documented_certificate()
    jsonschema.validate(certificate, SCHEMAS["Certificate"])
    assert certificate["spec"]["secretName"] == WEB_TLS_SECRET
    names = set(certificate["spec"]["dnsNames"])
    for service in _hub_services().values():
        (endpoint,) = _monitor_of(service)["spec"]["endpoints"]
        assert endpoint["tlsConfig"]["serverName"] in names
    misspelt = {**certificate, "spec": {**certificate["spec"], "dnsName": ["kawal-worker"]}}
    with pytest.raises(jsonschema.ValidationError, match="dnsName"):
        jsonschema.validate(misspelt, SCHEMAS["Certificate"])
