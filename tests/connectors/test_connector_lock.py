"""One copy of a connector per home: a second refuses to start, the next after it stops runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from streams.local.processes import ChildProcess

pytestmark = pytest.mark.slow

WAIT_SECONDS = 60.0


def _running(child: ChildProcess, lock: Path) -> None:
    """Wait until ``child`` holds the connector's lock."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not (lock.exists() and lock.read_text() == str(child.pid)):
        assert child.alive, child.log_tail()
        assert time.monotonic() < deadline, child.log_tail()
        time.sleep(0.1)


def test_a_second_copy_of_a_connector_on_one_home_is_refused(
    own_broker: str, tmp_path: Path
) -> None:
    env = dict(
        os.environ,
        KAWAL_HOME=str(tmp_path / "home"),
        KAWAL_BROKER_URL=f"tansu://{own_broker}",
        KAWAL_CONNECTOR_METRICS_PORT="0",
    )
    config = tmp_path / "callback.toml"
    config.write_text(
        'institution = "bawaslu.33"\ncallback_url = "http://127.0.0.1:9/x"\ntoken = "t"\n'
    )
    command = [sys.executable, "-m", "streams.cli", "connector", "run", "bawaslu-callback"]
    command += ["--config", str(config)]
    lock = tmp_path / "home" / "connectors" / "bawaslu-callback.lock"
    first = ChildProcess("connector", command, tmp_path / "first.log", env=env)
    first.start()
    try:
        _running(first, lock)
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    finally:
        first.stop(20)
    after = ChildProcess("connector", command, tmp_path / "after.log", env=env)
    after.start()
    try:
        _running(after, lock)
    finally:
        after.stop(20)

    assert second.returncode == 1, second.stderr
    assert "connector bawaslu-callback already runs on KAWAL_HOME=" in second.stderr
    assert f"(pid {first.pid})" in second.stderr
