"""``kawal up`` waits for a worker however long its tables take to restore, saying so."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from streams.local import supervisor as supervisor_module
from streams.local.processes import ChildFailedError, ChildProcess, free_port
from streams.local.supervisor import Supervisor
from streams.settings import Settings

#: A worker whose /health answers only after ``delay`` seconds, as one restoring its tables.
SLOW_WORKER = """
import http.server, sys, time
time.sleep(float(sys.argv[2]))
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
"""


def slow_supervisor(
    tmp_path: Path, command: Callable[[int], list[str]]
) -> tuple[Supervisor, ChildProcess]:
    """A supervisor whose worker runs ``command(port)``, its health port."""
    port = free_port()
    supervisor = Supervisor(Settings(home=tmp_path / "home", web_port=port), ephemeral=True)
    worker = ChildProcess("worker", command(port), tmp_path / "worker.log")
    worker.start()
    supervisor.worker = worker
    return supervisor, worker


def test_a_worker_healthy_after_several_notices_is_waited_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervisor_module, "STILL_STARTING_SECONDS", 0.5)
    supervisor, worker = slow_supervisor(
        tmp_path, lambda port: [sys.executable, "-c", SLOW_WORKER, str(port), "2.5"]
    )
    try:
        supervisor.wait_until_healthy()
    finally:
        worker.stop(5)

    said = capsys.readouterr().err
    assert said.count("kawal: the worker is still starting after") >= 2
    assert str(tmp_path / "worker.log") in said


def test_a_worker_that_exits_while_starting_ends_the_wait(tmp_path: Path) -> None:
    supervisor, _ = slow_supervisor(tmp_path, lambda port: [sys.executable, "-c", "exit(3)"])

    with pytest.raises(ChildFailedError, match="the worker exited with code 3 while starting"):
        supervisor.wait_until_healthy()


def test_a_stop_asked_while_starting_ends_the_wait(tmp_path: Path) -> None:
    supervisor, worker = slow_supervisor(
        tmp_path, lambda port: [sys.executable, "-c", SLOW_WORKER, str(port), "600"]
    )
    threading.Timer(1.0, supervisor.stopping.set).start()
    try:
        supervisor.wait_until_healthy()  # returns: the stop ends the wait, not a time limit
    finally:
        worker.stop(5)
    assert not worker.alive
