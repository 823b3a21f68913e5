"""Kill -9 the worker three times, then the audit sink, during a 20,000-event run: nothing
lost, nothing duplicated.

`kawal up` supervises both and restarts each after its kill; the broker keeps running. The
events are published while the kills happen, and each kill hits an instance that serves, so
every kill lands mid-stream and is answered by a restart of its own.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from streams.audit.store import AuditStore
from streams.broker.endpoint import parse_broker_url
from streams.broker.publisher import EventPublisher
from streams.domain.chain import verify_chain
from streams.local.keyring import keyring_of
from streams.local.processes import free_port
from streams.local.storage import free_storage_base_port
from streams.settings import Settings
from tests.hubtools import (
    UpProcess,
    default_codec,
    http_get,
    report,
    start_up,
    until_referral,
    up_env,
)

pytestmark = pytest.mark.slow

CASES = 5_000  # four events each: 20,000 events
#: Rows in the audit store at which a process is killed: the worker three times, then the sink.
KILLS_AT_ROWS = ((2_000, "worker"), (7_000, "worker"), (12_000, "worker"), (15_000, "sink"))
FINISH_SECONDS = 400.0
#: What `kawal up` prints when it restarts a child after a SIGKILL.
RESTART = re.compile(r"kawal: (\w+) exited \((-?\d+)\); restarting")


def child_pid(up: UpProcess, command: str, killed: set[int]) -> int | None:
    """The pid of the ``kawal COMMAND`` child of ``up``, unless it is one of ``killed``.

    A killed process keeps its command line until it has exited, and stays a child until the
    supervisor reaps it: without ``killed``, a second kill could hit the same dying process and
    get no restart of its own.
    """
    for pid in up.children():
        if pid in killed:
            continue
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:  # reaped since it was listed
            continue
        if b"streams.cli" in argv and command.encode() in argv:
            return pid
    return None


def serving(base_url: str) -> bool:
    """True if the process behind ``base_url`` is ready (partitions assigned, tables recovered)."""
    try:
        return http_get(f"{base_url}/health")[0] == 200
    except OSError:
        return False


def publish(bootstrap: list[str], home: Path, ids: set[str], stop: threading.Event) -> None:
    """Publish the run's events, adding each event id to ``ids``, until done or ``stop`` is set."""
    publisher = EventPublisher(bootstrap, default_codec(), keyring_of(Settings(home=home)))
    try:
        for _ in range(CASES):
            if stop.is_set():
                return
            first = report("bawaslu.33")
            for event_type, record in [
                ("ReportReceived", first),
                *until_referral(first["envelope"]["case_id"]),
            ]:
                publisher.publish(event_type, record)
                ids.add(record["envelope"]["event_id"])
    finally:
        publisher.close()


def kill_when(up: UpProcess, store: AuditStore, rows: int, command: str, killed: set[int]) -> int:
    """Once the store holds ``rows`` entries, SIGKILL the serving ``command``; return the count.

    The target is an instance not killed before that answers ``/health``: the kill then hits a
    process that consumes, never one whose restart is still under way.
    """
    deadline = time.monotonic() + FINISH_SECONDS
    while store.count() < rows:
        assert time.monotonic() < deadline, "the pipeline stalled"
        time.sleep(0.1)
    base_url = f"http://127.0.0.1:{up.web_port if command == 'worker' else up.sink_port}"
    pid = child_pid(up, command, killed)
    while pid is None or not serving(base_url):
        assert up.process.poll() is None, up.text()
        assert time.monotonic() < deadline, f"no restarted {command} served\n{up.text()}"
        time.sleep(0.1)
        pid = child_pid(up, command, killed)
    os.kill(pid, signal.SIGKILL)
    killed.add(pid)
    return store.count()


def test_three_worker_kills_and_a_sink_kill_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = up_env(home, free_port(), free_port(), free_storage_base_port())
    up = start_up(home, env, "--ephemeral")
    store = AuditStore(Settings(home=home).audit_url)
    accepted: set[str] = set()
    stop_publishing = threading.Event()
    killed: set[int] = set()
    try:
        up.wait_healthy()
        bootstrap = parse_broker_url(f"tansu://127.0.0.1:{up.broker_port}").bootstrap
        publishing = threading.Thread(
            target=publish, args=(bootstrap, home, accepted, stop_publishing), daemon=True
        )
        publishing.start()
        rows_at_kills = [
            kill_when(up, store, rows, command, killed) for rows, command in KILLS_AT_ROWS
        ]
        publishing.join(FINISH_SECONDS)
        assert not publishing.is_alive(), "publishing did not finish"
        deadline = time.monotonic() + FINISH_SECONDS
        while store.count() < len(accepted) and time.monotonic() < deadline:
            time.sleep(0.5)
        cases = store.cases()
        trails = [store.trail(case.case_id) for case in cases]
    finally:
        stop_publishing.set()
        up.stop(60)
        store.close()

    per_event = Counter(row.event_id for trail in trails for row in trail)
    assert len(accepted) == CASES * 4
    assert max(rows_at_kills) < len(accepted), f"a kill did not land mid-stream: {rows_at_kills}"
    assert set(per_event) == accepted, f"missing {len(accepted - set(per_event))}"
    assert max(per_event.values()) == 1
    assert len(cases) == CASES
    assert all(verify_chain(trail) is None for trail in trails)
    # Each kill is answered by a restart of the process it hit, after its SIGKILL.
    assert Counter(RESTART.findall(up.text())) == Counter(
        (command, str(-signal.SIGKILL)) for _, command in KILLS_AT_ROWS
    ), up.text()
    assert up.text().count("restarting") == len(KILLS_AT_ROWS)
