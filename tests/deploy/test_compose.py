"""deploy/compose.yaml is a valid Compose file that runs what the issue of operations asks.

Validated against the Compose specification's JSON schema that check-jsonschema vendors
(``--builtin-schema vendor.compose-spec``), offline; no Docker engine runs here.
"""

from __future__ import annotations

import re
import shlex
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from streams.broker.acls import acl_matrix, principal
from streams.domain.institutions import HUB_INSTITUTION, load_institutions
from streams.web.server_tls import server_tls_context
from tests.deploy.web_certificates import issued_certificates
from tests.monitoring.promtools import RULES, promtool

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "compose.yaml"


def check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"]
    return subprocess.run(
        [*command, str(path)], capture_output=True, text=True, timeout=120, check=False
    )


def services() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    return found


def test_compose_validates_against_the_compose_specification() -> None:
    checked = check_compose(COMPOSE)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_compose_file_the_specification_refuses_fails(tmp_path: Path) -> None:
    broken = yaml.safe_load(COMPOSE.read_text())
    broken["services"]["worker"]["healthcheck"]["retries"] = "many"
    broken["services"]["sink"]["restart_policy"] = "always"  # not a service key
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(broken))
    checked = check_compose(path)
    assert checked.returncode == 1
    assert "restart_policy" in checked.stdout + checked.stderr


def test_the_hub_is_reachable_healthy_and_built_from_the_dockerfile() -> None:
    found = services()
    for name in ("worker", "sink"):
        service = found[name]
        assert service["environment"]["KAWAL_WEB_HOST"] == "0.0.0.0"
        assert "/readyz" in " ".join(service["healthcheck"]["test"])
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert service["environment"]["KAWAL_KEK_FILE"].startswith("/run/secrets/")
    assert found["topics"]["command"].startswith("topics apply")
    assert found["worker"]["depends_on"]["topics"]["condition"] == (
        "service_completed_successfully"
    )
    images = {s["image"] for s in found.values() if "build" in s}
    assert images == {"kawal:0.1.0"}


def test_prometheus_of_compose_passes_promtool_with_the_rules(tmp_path: Path) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    config["rule_files"] = [str(RULES)]  # where compose mounts them, here
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    checked = promtool("check", "config", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert jobs == {"kawal-worker", "kawal-sink", "kawal-alertmanager", "kawal-prometheus"}


def test_clients_meet_the_brokers_over_sasl_ssl_with_passwords_only_in_secret_files() -> None:
    found = services()
    for name in ("topics", "worker", "sink"):
        env = found[name]["environment"]
        assert env["KAWAL_BROKER_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert env["KAWAL_BROKER_USERNAME"] == "kawal"
        assert env["KAWAL_BROKER_CA_FILE"] == "/run/secrets/broker_ca"
        sources = {secret["source"] for secret in found[name]["secrets"]}
        assert {"kawal_broker_password", "broker_ca"} <= sources
        # Settings read /run/secrets/kawal_<setting> (tests/test_secret_files.py).
        assert not {"KAWAL_BROKER_PASSWORD", "KAWAL_AUDIT_DB_URL"} & set(env)
    assert "kawal_audit_db_url" in {s["source"] for s in found["worker"]["secrets"]}
    for broker in ("kafka-1", "kafka-2", "kafka-3"):
        env = found[broker]["environment"]
        listeners = dict(
            pair.split(":") for pair in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
        )
        assert listeners["BROKER"] == "SASL_SSL"
        assert env["KAFKA_ADVERTISED_LISTENERS"].startswith("BROKER://")
        assert env["KAFKA_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
        assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
        assert found[broker]["depends_on"][f"{broker}-format"]["condition"] == (
            "service_completed_successfully"
        )
        format_command = " ".join(found[f"{broker}-format"]["command"])
        # "$$" is Compose's escape of a "$" the container's shell expands.
        assert "name=kawal,password=$$(cat /run/secrets/kawal_broker_password)" in format_command
    everything = COMPOSE.read_text()
    assert "PLAINTEXT://" not in everything


def _granted(script: str) -> set[tuple[str, str, str, str]]:
    """(resource type, pattern type, name, operation) of every ``acl ...`` call of ``script``."""
    granted = set()
    for step in script.split("&&"):
        words = shlex.split(step)
        if words[:1] != ["acl"]:
            continue
        options: dict[str, list[str]] = {}
        for flag, value in zip(words[1::2], words[2::2], strict=True):
            options.setdefault(flag, []).append(value)
        (kind,) = {"--topic", "--group"} & set(options)
        (name,) = options[kind]
        (pattern,) = options.get("--resource-pattern-type", ["literal"])
        for operation in options["--operation"]:
            granted.add((kind[2:], pattern, name, operation))
    return granted


def test_the_hub_is_granted_its_acl_bindings_before_it_creates_its_topics() -> None:
    found = services()
    acls = found["acls"]
    (script,) = acls["command"]
    # Applied by the brokers' super user, the only one who may before any ACL exists.
    assert "--command-config /run/secrets/kafka_admin_client" in script
    assert "--allow-principal User:kawal" in script
    assert "--add" in script
    wanted = {
        (
            binding.resource_type.value.lower(),
            binding.pattern_type.value.lower(),
            binding.resource_name,
            binding.operation.value.title().replace("_", ""),
        )
        for binding in acl_matrix(load_institutions())
        if binding.principal == principal(HUB_INSTITUTION)
    }
    assert _granted(script) == wanted
    assert found["topics"]["depends_on"]["acls"]["condition"] == "service_completed_successfully"
    for broker in ("kafka-1", "kafka-2", "kafka-3"):
        assert acls["depends_on"][broker]["condition"] == "service_healthy"
        assert found[broker]["environment"]["KAFKA_SUPER_USERS"] == "User:admin"


def _prometheus_jobs() -> dict[str, Any]:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    return {job["job_name"]: job for job in config["scrape_configs"]}


def test_the_hub_serves_https_from_secret_files_and_prometheus_verifies_it() -> None:
    found, jobs = services(), _prometheus_jobs()
    for name, port in (("worker", 6066), ("sink", 6067)):
        env, service = found[name]["environment"], found[name]
        mounted = {s["source"]: s for s in service["secrets"]}
        assert env["KAWAL_WEB_TLS_CERT"] == "/run/secrets/web_tls_cert"
        assert env["KAWAL_WEB_TLS_KEY"] == "/run/secrets/web_tls_key"
        assert mounted["web_tls_key"]["mode"] == 0o400
        assert mounted["web_tls_key"]["uid"] == "10001"
        assert {"web_tls_cert", "web_ca"} <= set(mounted)
        assert f"https://127.0.0.1:{port}/readyz" in " ".join(service["healthcheck"]["test"])
        job = jobs[f"kawal-{name}"]
        assert job["scheme"] == "https"
        # Verified for the service's name: the one the certificate must carry.
        assert job["tls_config"] == {"ca_file": "/run/secrets/web_ca", "server_name": name}
    assert found["prometheus"]["secrets"] == ["web_ca"]
    # Clear HTTP only inside a container of its own, to a health endpoint that serves no data.
    health = [
        f"http://127.0.0.1:{port}/{path}"
        for port, path in ((9093, "-/healthy"), (3000, "api/health"))
    ]
    assert re.findall(r"http://[^\s\"']+", COMPOSE.read_text()) == health


def test_the_health_check_passes_over_https_and_fails_on_a_certificate_of_another_ca(
    tmp_path: Path,
) -> None:
    (script,) = [word for word in services()["worker"]["healthcheck"]["test"] if "readyz" in word]
    issued, other = issued_certificates(["worker", "sink"]), issued_certificates(["worker"])
    for name, content in issued.items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / "other-ca.crt").write_bytes(other["ca.crt"])
    context = server_tls_context(tmp_path / "tls.crt", tmp_path / "tls.key")
    assert context is not None
    with serve_readyz(context) as port:
        here = script.replace(":6066/", f":{port}/")
        trusted = _run_check(here.replace("/run/secrets/web_ca", str(tmp_path / "ca.crt")))
        untrusted = _run_check(here.replace("/run/secrets/web_ca", str(tmp_path / "other-ca.crt")))

    assert trusted.returncode == 0, trusted.stderr
    assert untrusted.returncode == 1
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr


def _run_check(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )


@contextmanager
def serve_readyz(context: ssl.SSLContext) -> Iterator[int]:
    """An HTTPS server on a free port answering 200 to every GET, while the block runs."""

    class Ready(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ready)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
