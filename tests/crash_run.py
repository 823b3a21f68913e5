"""A `kawal up` run with kills: the worker and the sink SIGKILLed mid-stream, then counted.

Shared by the test in `make test` (8,000 events) and the battery in `make battery` (100,000):
every acknowledged event must be in the trail once, and every chain must verify.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from streams.audit.store import AuditStore
from streams.broker.endpoint import parse_broker_url
from streams.broker.publisher import EventPublisher
from streams.local.keyring import keyring_of
from streams.local.processes import free_port
from streams.local.storage import free_storage_base_port
from streams.process_title import read_title
from streams.settings import Settings
from tests.hubtools import (
    QUICK_REJOIN_ENV,
    UpProcess,
    default_codec,
    http_get,
    report,
    start_up,
    until_referral,
    up_env,
)
from tests.trail_tally import TrailTally

#: What `kawal up` prints when it restarts a child: its name, and how it ended.
RESTART = re.compile(
    r"kawal: (\w+) (exited with code -?\d+|killed by signal \d+ \(\w+\)); restarting"
)
#: How a SIGKILLed child's end is said in that line.
KILLED = "killed by signal 9 (SIGKILL)"


@dataclass(frozen=True)
class CrashOutcome:
    """What a run with kills left in the trail."""

    tally: TrailTally
    cases: int
    rows_at_kills: list[int]
    #: (command, how it ended) of each restart `kawal up` printed.
    restarts: Counter[tuple[str, str]]
    restart_lines: int

    def lines(self, prefix: str) -> list[str]:
        """``name: value`` lines of the figures."""
        return [*self.tally.lines(prefix), f"{prefix}rows_at_kills: {self.rows_at_kills}"]


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
            title = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
        except FileNotFoundError:  # reaped since it was listed
            continue
        # What ps shows: `kawal worker home=...` (streams.process_title).
        named = read_title(title)
        if named is not None and command in named[0].split():
            return pid
    return None


def serving(base_url: str) -> bool:
    """True if the process behind ``base_url`` is ready (partitions assigned, tables recovered)."""
    try:
        return http_get(f"{base_url}/health")[0] == 200
    except OSError:
        return False


def publish(
    bootstrap: list[str], home: Path, cases: int, ids: set[str], stop: threading.Event
) -> None:
    """Publish ``cases`` cases of four events, adding each event id to ``ids``, until done or
    ``stop`` is set."""
    publisher = EventPublisher(bootstrap, default_codec(), keyring_of(Settings(home=home)))
    try:
        for _ in range(cases):
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


def kill_when(
    up: UpProcess, store: AuditStore, rows: int, command: str, killed: set[int], limit: float
) -> int:
    """Once the store holds ``rows`` entries, SIGKILL the serving ``command``; return the count.

    The target is an instance not killed before that answers ``/health``: the kill then hits a
    process that consumes, never one whose restart is still under way.
    """
    deadline = time.monotonic() + limit
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


def crash_run(
    tmp_path: Path, cases: int, kills_at_rows: tuple[tuple[int, str], ...], limit: float
) -> CrashOutcome:
    """Run ``kawal up --ephemeral``, publish ``cases`` cases and kill at ``kills_at_rows``."""
    home = tmp_path / "home"
    env = up_env(home, free_port(), free_port(), free_storage_base_port()) | QUICK_REJOIN_ENV
    up = start_up(home, env, "--ephemeral")
    store = AuditStore(Settings(home=home).audit_url)
    accepted: set[str] = set()
    stop_publishing = threading.Event()
    killed: set[int] = set()
    try:
        up.wait_healthy()
        bootstrap = parse_broker_url(f"tansu://127.0.0.1:{up.broker_port}").bootstrap
        publishing = threading.Thread(
            target=publish, args=(bootstrap, home, cases, accepted, stop_publishing), daemon=True
        )
        publishing.start()
        rows_at_kills = [
            kill_when(up, store, rows, command, killed, limit) for rows, command in kills_at_rows
        ]
        publishing.join(limit)
        assert not publishing.is_alive(), "publishing did not finish"
        deadline = time.monotonic() + limit
        while store.count() < len(accepted) and time.monotonic() < deadline:
            time.sleep(0.5)
        found = store.cases()
        trails = [store.trail(case.case_id) for case in found]
    finally:
        stop_publishing.set()
        up.stop(60)
        store.close()
    return CrashOutcome(
        tally=TrailTally.of(accepted, trails),
        cases=len(found),
        rows_at_kills=rows_at_kills,
        restarts=Counter(RESTART.findall(up.text())),
        restart_lines=up.text().count("restarting"),
    )
