"""Alertmanager and amtool, from Debian's ``prometheus-alertmanager`` package, on loopback."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from streams.local.processes import ChildProcess, free_port

INSTALL = "apt-get install -y prometheus-alertmanager (make system-deps)"


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``amtool ARGS``; fail with the install command when it is missing."""
    path = shutil.which("amtool")
    assert path, f"amtool is missing: {INSTALL}"
    return subprocess.run([path, *args], capture_output=True, text=True, timeout=60)


def receivers_of(config: Path, *labels: str) -> str:
    """The receivers (comma-separated) an alert with ``labels`` (``name=value``) is routed to."""
    routed = amtool("config", "routes", "test", f"--config.file={config}", *labels)
    assert routed.returncode == 0, routed.stdout + routed.stderr
    return routed.stdout.strip()


def write_config(path: Path, config: dict[str, Any]) -> Path:
    """``config`` as Alertmanager's YAML file at ``path``."""
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def start_alertmanager(config: Path, home: Path) -> tuple[ChildProcess, str]:
    """A real Alertmanager on a free loopback port, alone (no gossip); returns it and its URL."""
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    assert binary, f"Alertmanager is missing: {INSTALL}"
    port = free_port()
    child = ChildProcess(
        "alertmanager",
        [
            binary,
            f"--config.file={config}",
            f"--storage.path={home / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        home / "alertmanager.log",
        cwd=home,
    )
    child.start()
    child.wait_for_port("127.0.0.1", port, timeout=30)
    return child, f"http://127.0.0.1:{port}"


def post_alerts(base_url: str, alerts: list[dict[str, Any]]) -> None:
    """Send ``alerts`` to Alertmanager as Prometheus does (``POST /api/v2/alerts``)."""
    request = urllib.request.Request(
        f"{base_url}/api/v2/alerts",
        data=json.dumps(alerts).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def listed_alerts(base_url: str) -> list[dict[str, Any]]:
    """Every alert Alertmanager holds, with its status (``inhibitedBy``) and receivers."""
    with urllib.request.urlopen(f"{base_url}/api/v2/alerts", timeout=10) as answer:
        found: list[dict[str, Any]] = json.load(answer)
    return found
