"""Kill -9 the worker three times, then the audit sink, during a 20,000-event run: nothing
lost, nothing duplicated.

`kawal up` supervises both and restarts each after its kill; the broker keeps running.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from streams.audit.store import AuditStore
from streams.broker.endpoint import parse_broker_url
from streams.broker.publisher import EventPublisher
from streams.domain.chain import verify_chain
from streams.local.processes import free_port
from streams.local.storage import free_storage_base_port
from streams.settings import Settings
from tests.hubtools import UpProcess, default_codec, report, start_up, until_referral, up_env

pytestmark = pytest.mark.slow

CASES = 5_000  # four events each: 20,000 events
#: Rows in the audit store at which a process is killed: the worker three times, then the sink.
KILLS_AT_ROWS = ((2_000, "worker"), (7_000, "worker"), (12_000, "worker"), (15_000, "sink"))
FINISH_SECONDS = 400.0


def child_pid(up: UpProcess, command: str) -> int | None:
    for pid in up.children():
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"streams.cli" in argv and command.encode() in argv:
            return pid
    return None


def publish(bootstrap: list[str]) -> set[str]:
    publisher = EventPublisher(bootstrap, default_codec())
    ids: set[str] = set()
    for _ in range(CASES):
        first = report("bawaslu.33")
        for event_type, record in [
            ("ReportReceived", first),
            *until_referral(first["envelope"]["case_id"]),
        ]:
            publisher.publish(event_type, record)
            ids.add(record["envelope"]["event_id"])
    publisher.close()
    return ids


def kill_when(up: UpProcess, store: AuditStore, rows: int, command: str) -> None:
    deadline = time.monotonic() + FINISH_SECONDS
    while store.count() < rows:
        assert time.monotonic() < deadline, "the pipeline stalled"
        time.sleep(0.1)
    pid = None
    while pid is None:
        assert up.process.poll() is None, up.text()
        pid = child_pid(up, command)
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def test_three_worker_kills_and_a_sink_kill_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = up_env(home, free_port(), free_port(), free_storage_base_port())
    up = start_up(home, env, "--ephemeral")
    store = AuditStore(Settings(home=home).audit_url)
    try:
        up.wait_healthy()
        accepted = publish(parse_broker_url(f"tansu://127.0.0.1:{up.broker_port}").bootstrap)
        for rows, command in KILLS_AT_ROWS:
            kill_when(up, store, rows, command)
        deadline = time.monotonic() + FINISH_SECONDS
        while store.count() < len(accepted) and time.monotonic() < deadline:
            time.sleep(0.5)
        cases = store.cases()
        trails = [store.trail(case.case_id) for case in cases]
    finally:
        up.process.send_signal(signal.SIGTERM)
        up.process.wait(timeout=60)
        store.close()

    per_event = Counter(row.event_id for trail in trails for row in trail)
    assert len(accepted) == CASES * 4
    assert set(per_event) == accepted, f"missing {len(accepted - set(per_event))}"
    assert max(per_event.values()) == 1
    assert len(cases) == CASES
    assert all(verify_chain(trail) is None for trail in trails)
    assert up.text().count("restarting") == len(KILLS_AT_ROWS)
