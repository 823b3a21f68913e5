"""`kawal up --monitoring`: Prometheus as a supervised child, scraping the hub with the rules.

Its hub is also the one stopped with Ctrl-C, as a terminal stops it: Prometheus goes with it.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from streams.local.monitoring import NO_ALERTMANAGER, LocalPrometheus
from streams.local.processes import free_port, port_in_use
from streams.local.storage import free_storage_base_port
from tests.hubtools import UpProcess, start_up, up_env
from tests.in_process import kawal_here
from tests.monitoring.prometheus_api import query, targets, wait_until
from tests.up_stops import stop_code

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class MonitoredUp:
    """The ``kawal up --monitoring`` of this file's tests and the port of its Prometheus."""

    up: UpProcess
    prometheus_port: int

    @property
    def prometheus_url(self) -> str:
        """Base URL of its Prometheus."""
        return f"http://127.0.0.1:{self.prometheus_port}"


@pytest.fixture(scope="module")
def monitored_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MonitoredUp]:
    """``kawal up --ephemeral --monitoring`` in a process group of its own, as a terminal runs it.

    A signal to that group is what Ctrl-C sends.
    """
    home = tmp_path_factory.mktemp("monitoring") / "home"
    env = up_env(home, free_port(), free_port(), free_storage_base_port())
    prometheus_port = free_port()
    env.update(KAWAL_PROMETHEUS_PORT=str(prometheus_port))
    up = start_up(home, env, "--ephemeral", "--monitoring", own_group=True)
    try:
        up.wait_healthy()
        yield MonitoredUp(up, prometheus_port)
    finally:
        if up.process.poll() is None:
            up.process.kill()
            up.process.wait()


def test_up_with_monitoring_scrapes_the_hub_and_loads_the_rules(
    monitored_up: MonitoredUp,
) -> None:
    up, base = monitored_up.up, monitored_up.prometheus_url

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
    # No KAWAL_ALERTMANAGER_URL: said once, and Prometheus has nowhere to send.
    assert up.text().count(NO_ALERTMANAGER) == 1
    written = up.home / "monitoring" / "prometheus" / "prometheus.yml"
    assert "alerting" not in yaml.safe_load(written.read_text())


def test_status_reads_the_alerts_of_its_prometheus(monitored_up: MonitoredUp) -> None:
    up, base = monitored_up.up, monitored_up.prometheus_url
    wait_until(lambda: [] if "kawal: hub is up" in up.text() else ["announced"], "not announced")
    done = kawal_here({"KAWAL_HOME": str(up.home)}, "status", "--json")
    report = json.loads(done.stdout)
    assert report["source"] == "kawal up"
    assert done.returncode == {"OK": 0, "DEGRADED": 10, "DOWN": 11}[report["state"]], done
    alerts = next(check for check in report["checks"] if check["name"] == "alerts")
    # A young hub may already have a ticket firing; what matters is that Prometheus was read.
    assert alerts["reason"] == f"none firing ({base}/alerts)" or alerts["reason"].startswith(
        "firing: Kawal"
    ), alerts


def test_ctrl_c_stops_everything(monitored_up: MonitoredUp) -> None:
    # After the test above: this one stops the hub they share.
    up = monitored_up.up
    children = up.children()
    assert len(children) >= 4  # broker, worker, sink and Prometheus (ephemeral: no storage)
    # A terminal's Ctrl-C signals its foreground group: the supervisor alone is in it.
    assert {os.getpgid(pid) for pid in children}.isdisjoint({up.process.pid})

    started = time.monotonic()
    os.killpg(up.process.pid, signal.SIGINT)
    code = stop_code(up, children, started)

    assert code == 0, f"exit {code} {time.monotonic() - started:.0f} s after the signal"
    assert not port_in_use("127.0.0.1", monitored_up.prometheus_port)  # stopped with the hub


def test_up_with_monitoring_without_prometheus_says_what_to_install(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = up_env(home, free_port(), free_port(), free_storage_base_port())
    env["PATH"] = str(tmp_path / "empty")  # no prometheus anywhere on it
    done = kawal_here(env, "up", "--ephemeral", "--monitoring")
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
