"""``kawal up`` stops the worker and the sink together, so a stop takes one wait, not two.

Each child ignores SIGTERM and notes when it came, as a process stuck committing would: the
supervisor must then kill both, and the second must not have waited out the first's timeout.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from streams.local import supervisor as supervisor_module
from streams.local.processes import ChildProcess
from streams.local.supervisor import Supervisor
from streams.settings import Settings

#: Seconds each child has to stop in this test before it is killed: long enough for a child
#: on a loaded machine to run its SIGTERM handler, which 3 s was not with two cores busy.
STOP_SECONDS = 10.0
READY_SECONDS = 60.0

#: Notes its ready, then each SIGTERM with the machine's monotonic clock, and never exits.
STUBBORN = """
import pathlib, signal, sys, time
notes = pathlib.Path(sys.argv[1])
def note_term(_signal, _frame):
    with notes.open("a") as out:
        out.write(f"term {time.monotonic()}\\n")
signal.signal(signal.SIGTERM, note_term)
notes.write_text("ready\\n")
while True:
    time.sleep(1)
"""


def stubborn(name: str, tmp_path: Path) -> tuple[ChildProcess, Path]:
    """A started child that ignores SIGTERM, and the file of its notes."""
    notes = tmp_path / f"{name}.notes"
    child = ChildProcess(name, [sys.executable, "-c", STUBBORN, str(notes)], tmp_path / name)
    child.start()
    deadline = time.monotonic() + READY_SECONDS
    while not notes.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert notes.exists(), child.log_tail()
    return child, notes


def terms(notes: Path) -> list[float]:
    """The monotonic instants at which a child got SIGTERM."""
    lines = notes.read_text().split()
    return [float(lines[i + 1]) for i, word in enumerate(lines) if word == "term"]


def test_the_worker_and_the_sink_are_stopped_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervisor_module, "WORKER_STOP_TIMEOUT_SECONDS", STOP_SECONDS)
    supervisor = Supervisor(Settings(home=tmp_path / "home"), ephemeral=True)
    supervisor.worker, worker_notes = stubborn("worker", tmp_path)
    supervisor.sink, sink_notes = stubborn("sink", tmp_path)

    supervisor.stop()

    assert not supervisor.worker.alive
    assert not supervisor.sink.alive
    (worker_term,), (sink_term,) = terms(worker_notes), terms(sink_notes)
    # One after the other, the second SIGTERM would come only once the first child was killed.
    assert abs(sink_term - worker_term) < STOP_SECONDS, (worker_term, sink_term)
