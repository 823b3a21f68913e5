"""`kawal up --monitoring`: Prometheus as a supervised child, scraping the hub with the rules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from streams.local.monitoring import LocalPrometheus
from streams.local.processes import free_port, port_in_use
from streams.local.storage import free_storage_base_port
from tests.hubtools import start_up, up_env
from tests.monitoring.prometheus_api import query, targets, wait_until

pytestmark = pytest.mark.slow


def test_up_with_monitoring_scrapes_the_hub_and_loads_the_rules(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = up_env(home, free_port(), free_port(), free_storage_base_port())
    prometheus_port = free_port()
    env.update(KAWAL_PROMETHEUS_PORT=str(prometheus_port))
    up = start_up(home, env, "--ephemeral", "--monitoring")
    base = f"http://127.0.0.1:{prometheus_port}"
    try:
        up.wait_healthy()

        def not_up() -> list[str]:
            try:
                found = {t["labels"]["job"]: t["health"] for t in targets(base)}
            except OSError as exc:
                return [f"Prometheus not answering: {exc}"]
            wanted = {"kawal-worker": "up", "kawal-sink": "up"}
            return [job for job, health in wanted.items() if found.get(job) != health]

        wait_until(not_up, f"targets not up\n{up.text()}")
        # The rules are loaded: a recording rule has a value.
        wait_until(
            lambda: [] if query(base, "kawal:events:rate5m") else ["kawal:events:rate5m"],
            "recording rules not evaluated",
        )
        assert f'"prometheus": "{base}"' in up.text()
    finally:
        code = up.stop(30)
    assert code == 0
    assert not port_in_use("127.0.0.1", prometheus_port)  # stopped with the hub


def test_up_with_monitoring_without_prometheus_says_what_to_install(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = up_env(home, free_port(), free_port(), free_storage_base_port())
    env["PATH"] = str(tmp_path / "empty")  # no prometheus anywhere on it
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", "up", "--ephemeral", "--monitoring"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "apt-get install -y prometheus" in done.stderr
    assert not home.exists() or not (home / "kawal.lock").exists()
    assert os.environ.get("PATH")  # ours is untouched


def test_prometheus_starts_under_a_relative_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `make run` keeps its home in ".kawal", relative to the clone.
    monkeypatch.chdir(tmp_path)
    prometheus = LocalPrometheus(Path(".kawal") / "monitoring", free_port(), {"kawal-worker": []})
    try:
        prometheus.start()
        assert query(prometheus.url, "up") == []
    finally:
        prometheus.stop()
    assert (tmp_path / ".kawal" / "monitoring" / "prometheus" / "prometheus.yml").is_file()
