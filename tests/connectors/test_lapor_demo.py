"""The demo's portal: configured on the embedded S3 when ``kawal up`` passes it, else absent."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from minio import Minio

from connectors.host import build
from connectors.lapor.demo import BUCKET, demo_configs
from schemas.errors import KawalError
from streams.contract.asyncapi import SETTINGS_PATH
from streams.contract.generated_files import PROJECT_ROOT
from streams.local.processes import free_port
from tests.lapor_support import seaweed_s3


def test_without_an_evidence_store_the_demo_has_no_portal(tmp_path: Path) -> None:
    assert demo_configs(tmp_path, {}) == {}


def test_the_demo_portal_gets_its_bucket_and_a_kept_secret(tmp_path: Path) -> None:
    with seaweed_s3(tmp_path / "s3", bucket="kawal") as location:  # the broker's storage
        env = {
            "KAWAL_EVIDENCE_S3": location.endpoint,
            "KAWAL_EVIDENCE_S3_ACCESS_KEY": location.access_key,
            "KAWAL_EVIDENCE_S3_SECRET_KEY": location.secret_key,
            "KAWAL_LAPOR_PORT": str(free_port()),
        }

        configs = demo_configs(tmp_path / "simulators", env)
        again = demo_configs(tmp_path / "simulators", env)

        client = Minio(
            location.endpoint.removeprefix("http://"),
            access_key=location.access_key,
            secret_key=location.secret_key,
            secure=False,
            region="us-east-1",
        )
        assert client.bucket_exists(BUCKET)
        assert configs == again  # the secret is kept across restarts
        secret = tmp_path / "simulators" / "lapor" / "secret"
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        for name, config in configs.items():
            build(name, config).close()


def test_the_embedded_storage_hands_its_s3_to_the_demo(tmp_path: Path) -> None:
    from streams.local.storage import EmbeddedStorage

    storage = EmbeddedStorage(tmp_path / "data", tmp_path / "logs", base_port=18000)

    assert storage.s3_env("KAWAL_EVIDENCE_S3") == {
        "KAWAL_EVIDENCE_S3": "http://127.0.0.1:18000",
        "KAWAL_EVIDENCE_S3_ACCESS_KEY": "kawal",
        "KAWAL_EVIDENCE_S3_SECRET_KEY": "kawal-local-only",
    }


def test_only_a_cluster_with_storage_gives_the_portal_an_s3(tmp_path: Path) -> None:
    from streams.local.embedded import EmbeddedCluster, evidence_env

    durable = EmbeddedCluster(tmp_path / "logs", data_dir=tmp_path / "data", storage_port=18000)
    ephemeral = EmbeddedCluster(tmp_path / "logs")

    assert evidence_env(durable)["KAWAL_EVIDENCE_S3"] == "http://127.0.0.1:18000"
    assert evidence_env(ephemeral) == {}
    assert evidence_env(None) == {}


def test_the_portal_port_is_one_variable_with_one_default_documented() -> None:
    from connectors.lapor import demo
    from streams.contract.settingsdocs import DEMO_CONNECTOR_VARIABLES
    from streams.local import demo_portal

    assert (demo.PORT, demo.DEFAULT_PORT) == (demo_portal.PORT_SETTING, demo_portal.DEFAULT_PORT)
    assert (demo.PORT, demo.DEFAULT_PORT) in {row[:2] for row in DEMO_CONNECTOR_VARIABLES}
    page = (PROJECT_ROOT / SETTINGS_PATH).read_text("utf-8")
    assert f"| `{demo.PORT}` | `{demo.DEFAULT_PORT}` |" in page


@pytest.mark.parametrize("value", ["http", "0", "70000", "-1"])
def test_a_portal_port_that_is_no_port_says_what_it_takes(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    from streams.local.demo_portal import portal_url

    monkeypatch.setenv("KAWAL_LAPOR_PORT", value)

    with pytest.raises(KawalError, match="KAWAL_LAPOR_PORT takes a port from 1 to 65535"):
        portal_url()
