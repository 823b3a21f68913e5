"""When the embedded broker exits, ``kawal up`` stops the hub and says what to do next.

A real tansu is started and stopped under the supervisor's watch: the operator must learn its
exit code, that the data is kept, and that running ``kawal up`` again starts the hub on it.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

from streams.local.embedded import EmbeddedCluster
from streams.local.processes import ChildFailedError, free_port
from streams.local.supervisor import Supervisor
from streams.settings import Settings


def test_the_broker_exiting_names_its_code_the_kept_data_and_the_next_step(
    tmp_path: Path,
) -> None:
    settings = Settings(home=tmp_path / "home")
    settings.log_dir.mkdir(parents=True)
    cluster = EmbeddedCluster(settings.log_dir, data_dir=None, broker_port=free_port())
    cluster.start()
    supervisor = Supervisor(settings, ephemeral=True)
    supervisor.cluster = cluster
    failed: list[ChildFailedError] = []

    def watching() -> None:
        try:
            supervisor.watch()
        except ChildFailedError as exc:
            failed.append(exc)

    watcher = threading.Thread(target=watching)
    watcher.start()
    try:
        assert cluster.broker.pid is not None
        os.kill(cluster.broker.pid, signal.SIGTERM)
        watcher.join(15)
    finally:
        supervisor.stopping.set()
        watcher.join(5)
        cluster.stop()

    [exc] = failed
    said = str(exc)
    assert "the embedded broker exited" in said
    assert cluster.broker.returncode is not None  # tansu ends with 0 on SIGTERM
    assert f"code {cluster.broker.returncode}" in said
    assert "kawal up" in said
    assert str(settings.log_dir / "tansu.log") in said
