"""One copy of a connector per home: a second refuses to start, the next after it stops runs.

The second refuses before it opens any port: a webhook's listener, the metrics.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from streams.local.keyring import ensure_local_keys
from streams.local.processes import ChildProcess, free_port, port_in_use
from streams.settings import Settings
from tests.hubtools import START_SECONDS

pytestmark = pytest.mark.slow

#: A connector process's start: imports take a minute on a starved machine.
WAIT_SECONDS = START_SECONDS


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
    ensure_local_keys(Settings(home=tmp_path / "home"))  # it believes the hub's signatures
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
    assert "Another institution's copy runs from a KAWAL_HOME of its own" in second.stderr


def _webhook_config(path: Path, port: int, spool: Path) -> Path:
    path.write_text(
        f'institution = "bawaslu.33"\nlisten_port = {port}\nspool_dir = "{spool}"\n'
        f'secret = "{"s" * 32}"\n'
    )
    return path


def _health(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
        return int(answer.status)


def test_a_second_copy_of_a_webhook_exits_before_it_listens_or_serves_metrics(
    own_broker: str, tmp_path: Path
) -> None:
    """The lock is taken first: the second copy opens no listener and no metrics port."""
    ensure_local_keys(Settings(home=tmp_path / "home"))  # the first copy signs as bawaslu.33
    listen, other_listen, metrics = free_port(), free_port(), free_port()
    env = dict(
        os.environ,
        KAWAL_HOME=str(tmp_path / "home"),
        KAWAL_BROKER_URL=f"tansu://{own_broker}",
        KAWAL_CONNECTOR_METRICS_PORT=str(metrics),
    )
    command = [sys.executable, "-m", "streams.cli", "connector", "run", "bawaslu-webhook"]
    first_config = _webhook_config(tmp_path / "first.toml", listen, tmp_path / "spool")
    # The same connector again, given a port of its own: before the lock, it would answer there.
    second_config = _webhook_config(tmp_path / "second.toml", other_listen, tmp_path / "spool")
    lock = tmp_path / "home" / "connectors" / "bawaslu-webhook.lock"
    first = ChildProcess(
        "connector", [*command, "--config", str(first_config)], tmp_path / "a.log", env=env
    )
    first.start()
    answered: list[int] = []
    watching = threading.Event()

    def watch_other_port() -> None:
        while not watching.is_set():
            with contextlib.suppress(OSError):
                answered.append(_health(other_listen))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch_other_port, daemon=True)
    try:
        _running(first, lock)
        first.wait_for_port("127.0.0.1", listen, WAIT_SECONDS)
        watcher.start()
        second = subprocess.run(
            [*command, "--config", str(second_config)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        watching.set()
        watcher.join(timeout=10)
        first_still_serves = _health(listen)
        assert first.alive, first.log_tail()
    finally:
        watching.set()
        first.stop(20)

    assert second.returncode == 1, second.stderr
    assert "connector bawaslu-webhook already runs on KAWAL_HOME=" in second.stderr
    assert f"(pid {first.pid})" in second.stderr
    assert "listening" not in second.stderr
    assert "in use" not in second.stderr  # it never tried the metrics' port either
    assert answered == []
    assert not port_in_use("127.0.0.1", other_listen)
    assert first_still_serves == 200
