"""A demo connector that fails stops the demo's connectors, and ``kawal up`` says so once."""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path

import pytest

from connectors.demo import stopping_all_on_failure
from streams.local.processes import ChildProcess
from streams.local.supervisor import Supervisor
from streams.settings import Settings

#: Longest wait for what takes a second or so, s: a guard against a hang on a loaded machine.
HANG_GUARD_SECONDS = 60.0


def test_a_failing_connector_stops_the_others_and_its_log_quotes_no_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = threading.Event()
    failed: list[str] = []

    nip = "199001012015031001"

    def failing() -> None:
        raise ValueError(f"NIP {nip} does not fit")  # as a careless parser might

    def waiting() -> None:
        stop.wait(30)

    threads = [
        threading.Thread(target=stopping_all_on_failure(name, run, stop, failed))
        for name, run in (("siasn", failing), ("ppk", waiting))
    ]
    with caplog.at_level(logging.CRITICAL):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert stop.is_set()
    assert failed == ["siasn"]
    assert "demo connector siasn failed with ValueError" in caplog.text
    assert nip not in caplog.text


class WatchRounds(threading.Event):
    """The supervisor's stop event, which tells when its watch has looked ``rounds`` times."""

    def __init__(self, rounds: int) -> None:
        """Set ``done`` once the watch has waited for the stop ``rounds`` times and looked."""
        super().__init__()
        self.rounds = rounds
        self.count = 0
        self.done = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait as the watch does between its rounds, counting the rounds that came before."""
        if self.count == self.rounds:
            self.done.set()
        self.count += 1
        return super().wait(timeout)


def test_kawal_up_reports_the_demo_connectors_exit_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    supervisor = Supervisor(Settings(home=tmp_path / "home"), ephemeral=True)
    connectors = ChildProcess(
        "connectors", [sys.executable, "-c", "raise SystemExit(1)"], tmp_path / "connectors.log"
    )
    connectors.start()
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while connectors.alive:
        assert time.monotonic() < deadline, f"the connectors ran {HANG_GUARD_SECONDS} s"
        time.sleep(0.05)
    supervisor.connectors = connectors
    supervisor.stopping = rounds = WatchRounds(3)
    watching = threading.Thread(target=supervisor.watch)
    watching.start()
    # Three rounds of the watch after the exit, however long a loaded machine makes them.
    assert rounds.done.wait(HANG_GUARD_SECONDS), f"{rounds.count} rounds of the watch"
    supervisor.stopping.set()
    watching.join(HANG_GUARD_SECONDS)
    reported = capsys.readouterr().err
    assert reported.count("kawal: the demo connectors exited (1); the hub runs on") == 1
    assert str(tmp_path / "connectors.log") in reported
