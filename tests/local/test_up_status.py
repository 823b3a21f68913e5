"""`kawal status` finds a running `kawal up` at its own ports; a worker by hand is refused there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from streams.cli.exits import EXIT_ERROR, EXIT_OK
from streams.local.processes import free_port
from streams.local.storage import free_storage_base_port
from tests.cli.test_status_cli import CHECKS
from tests.hubtools import UpProcess, start_up, up_env
from tests.in_process import kawal_here

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpProcess]:
    home = tmp_path_factory.mktemp("up-status") / "home"
    running = start_up(
        home, up_env(home, free_port(), free_port(), free_storage_base_port()), "--ephemeral"
    )
    try:
        running.wait_healthy()
        yield running
    finally:
        running.stop(60)


def _wait_announced(up: UpProcess) -> None:
    # up.json is written once the hub is announced, a moment after /health answers.
    deadline = time.monotonic() + 60
    while "kawal: hub is up" not in up.text():
        assert time.monotonic() < deadline, up.text()
        time.sleep(0.2)


def test_status_with_only_kawal_home_finds_kawal_up_at_its_ports(up: UpProcess) -> None:
    _wait_announced(up)
    # None of the ports `kawal up` was given: the defaults would ask nothing of this hub.
    done = kawal_here({"KAWAL_HOME": str(up.home)}, "status", "--json")
    assert done.returncode == EXIT_OK, done
    report = json.loads(done.stdout)
    assert (report["state"], report["source"]) == ("OK", "kawal up")
    assert report["processes"]["up"] == up.process.pid
    assert set(report["processes"]) == {"up", "worker", "sink"}
    assert {check["name"]: check["state"] for check in report["checks"]} == dict.fromkeys(
        CHECKS, "OK"
    )
    assert report["addresses"] == {
        "worker": f"http://127.0.0.1:{up.web_port}",
        "sink": f"http://127.0.0.1:{up.sink_port}",
    }
    worker = next(check for check in report["checks"] if check["name"] == "worker")
    assert worker["reason"] == f"ready at http://127.0.0.1:{up.web_port}"


def test_a_worker_started_by_hand_on_its_home_is_refused_naming_kawal_up(up: UpProcess) -> None:
    env = dict(os.environ) | {
        "KAWAL_HOME": str(up.home),
        "KAWAL_BROKER_URL": f"tansu://127.0.0.1:{up.broker_port}",
        "KAWAL_WEB_PORT": str(free_port()),
    }
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == EXIT_ERROR, done.stderr
    assert done.stderr.strip() == (
        f"kawal: Kawal is already running on KAWAL_HOME={up.home.resolve()} "
        f"(pid {up.process.pid}); stop it first, or set another KAWAL_HOME"
    )
    assert up.process.poll() is None
    assert "restarting" not in up.text()
