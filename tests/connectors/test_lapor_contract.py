"""``lapor-intake`` passes the connector contract suite (real broker, real SeaweedFS S3)."""

from __future__ import annotations

import base64
import json
import sqlite3
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from connectors.bawaslu.sealing import PURPOSE, SpoolSealer
from connectors.bawaslu.spool import Spool
from connectors.contract import InboundContract
from connectors.host import build
from connectors.key_files import kept_key
from connectors.lapor.evidence import S3Location
from streams.local.processes import free_port
from tests.lapor_support import png, report_fields, seaweed_s3

SECRET = "lapor-contract-secret-of-32-characters-at-least"


@dataclass
class PortalBed:
    """A deployed portal (it holds the listener) and its configuration."""

    config: dict[str, Any]

    @property
    def spool_dir(self) -> Path:
        return Path(self.config["spool_dir"])

    def post(self, payload: dict[str, Any]) -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.config['listen_port']}/api/v1/reports",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)


@contextmanager
def spool_locked(path: Path) -> Iterator[None]:
    """Another process (a backup, say) holds the spool exclusively."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        db.execute("ROLLBACK")
        db.close()


@pytest.fixture(autouse=True, scope="module")
def _storage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One SeaweedFS for the module; the suite's methods find it on the class."""
    with seaweed_s3(tmp_path_factory.mktemp("contract-s3")) as location:
        TestIntakeContract.location = location
        yield


class TestIntakeContract(InboundContract):
    connector_name = "lapor-intake"
    location: ClassVar[S3Location]
    shade = 0

    @contextmanager
    def _bed(self, tmp_path: Path) -> Iterator[PortalBed]:
        location = self.location
        config = {
            "institution": "bawaslu.33",
            "listen_port": free_port(),
            "spool_dir": str(tmp_path / "spool"),
            "secret": SECRET,
            "s3_endpoint": location.endpoint,
            "s3_bucket": location.bucket,
            "s3_access_key": location.access_key,
            "s3_secret_key": location.secret_key,
            "report_rate": "1000/minute",
            "spool_busy_seconds": 0.2,
        }
        deployed = build("lapor-intake", config)
        try:
            yield PortalBed(config)
        finally:
            deployed.close()

    def start_system(self, tmp_path: Path) -> AbstractContextManager[Any]:
        return self._bed(tmp_path)

    def config(self, system: Any, tmp_path: Path) -> dict[str, Any]:
        return dict(system.config)

    def add_records(self, system: Any, count: int) -> None:
        for _ in range(count):
            TestIntakeContract.shade += 1
            photo = png(shade=TestIntakeContract.shade)
            payload: dict[str, Any] = report_fields()
            payload["evidence"] = [
                {"name": "bukti.png", "content_base64": base64.b64encode(photo).decode()}
            ]
            assert system.post(payload) == 202

    def add_malformed(self, system: Any) -> None:
        # A report the portal did not write (the spool was altered): refused when mapped.
        sealer = SpoolSealer(kept_key(system.spool_dir / "spool.key", PURPOSE))
        spool = Spool(system.spool_dir, 1.0, sealer)
        try:
            spool.append("altered-report", json.dumps({"id": "x", "report": {}}).encode())
        finally:
            spool.close()

    def unreachable(self, system: Any) -> AbstractContextManager[None]:
        return spool_locked(system.spool_dir / Spool.FILE_NAME)
