"""Every hub process of the deployments keeps its data keys in the shared audit database.

Without ``KAWAL_VAULT_URL`` each worker and the sink would keep a vault of its own in SQLite
under ``KAWAL_HOME``, on the container's filesystem: data keys lost with the pod, and no
worker able to open the keys another made. The settings are read as the hub reads them
(:class:`streams.settings.Settings`), from the Kubernetes manifests and from compose.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.contract.workloads import AUDIT_DB_SECRET
from streams.settings import Settings
from tests.deploy.manifests import ROOT, containers, reference, settings_of

HUB_COMMANDS = {"worker", "sink"}
COMPOSE = ROOT / "deploy" / "compose.yaml"


def _hub_containers() -> list[dict[str, Any]]:
    return [c for c in containers() if c["name"] == "kawal" and c["args"][0] in HUB_COMMANDS]


def _compose_services() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    return {name: s for name, s in found.items() if str(s.get("command")) in HUB_COMMANDS}


def test_every_hub_pod_opens_the_vault_in_the_audit_database() -> None:
    hub = _hub_containers()
    assert {container["args"][0] for container in hub} == HUB_COMMANDS
    stores = {(s.audit_url, s.effective_vault_url) for s in map(settings_of, hub)}
    shared = reference(AUDIT_DB_SECRET, "url")
    assert stores == {(shared, shared)}


def test_without_the_vault_url_a_pod_keeps_its_vault_on_its_own_filesystem() -> None:
    container = _hub_containers()[0]
    env = [v for v in container["env"] if v["name"] != "KAWAL_VAULT_URL"]
    settings = settings_of({**container, "env": env})
    assert settings.effective_vault_url == f"sqlite:///{settings.home / 'vault.db'}"


def test_every_hub_service_of_compose_opens_the_vault_in_the_audit_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("KAWAL_VAULT_URL", "KAWAL_AUDIT_DB_URL"):
        monkeypatch.delenv(variable, raising=False)
    services = _compose_services()
    assert set(services) == HUB_COMMANDS
    for name, service in services.items():
        # Each secret file holds the name of the secret it comes from: /run/secrets/<target>.
        secrets = tmp_path / name
        secrets.mkdir()
        for secret in service["secrets"]:
            target = secret.get("target", secret["source"])
            (secrets / target).write_text(f"postgresql+psycopg://{secret['source']}\n")
        fields: dict[str, Any] = {
            variable.removeprefix("KAWAL_").lower(): value
            for variable, value in service["environment"].items()
        }
        fields["_secrets_dir"] = secrets  # where the container reads /run/secrets
        settings = Settings(**fields)
        assert settings.audit_url == "postgresql+psycopg://kawal_audit_db_url", name
        assert settings.effective_vault_url == settings.audit_url, name
