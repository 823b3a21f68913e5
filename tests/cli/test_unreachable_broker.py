"""A command that needs the broker says so when it cannot reach it, without a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from streams.local.processes import free_port


def test_dlq_list_without_a_broker_is_a_clear_error(tmp_path: Path) -> None:
    url = f"kafka://127.0.0.1:{free_port()}"
    env = dict(os.environ, KAWAL_HOME=str(tmp_path), KAWAL_BROKER_URL=url)

    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", "dlq", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "did not answer" in done.stderr
    assert done.stderr.count("KafkaTimeoutError") == 1
    assert "KAWAL_BROKER_URL" in done.stderr
