"""`kawal replay` rebuilds the audit store from kawal.case.audit; twice adds nothing."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import uuid
import warnings
from pathlib import Path
from typing import Any

from streams.audit.store import AuditStore
from streams.audit.verify import verify_store
from tests.brokers import start_ephemeral_broker
from tests.hubtools import RunningHub
from tests.in_process import kawal_here
from tests.postgres import PostgresServer


def _replay(hub: RunningHub, audit_url: str) -> dict[str, Any]:
    env = dict(
        os.environ,
        KAWAL_BROKER_URL=f"tansu://{hub.bootstrap[0]}",
        KAWAL_AUDIT_DB_URL=audit_url,
        KAWAL_HOME=str(hub.home),  # its key registry: which entries the hub made
    )
    command = [sys.executable, "-m", "streams.cli", "replay", "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_replay_rebuilds_a_lost_store_and_adds_nothing_twice(
    hub: RunningHub, tmp_path: Path
) -> None:
    cases = [hub.open_case("bawaslu.33") for _ in range(2)]
    rebuilt_url = f"sqlite:///{tmp_path / 'rebuilt.db'}"

    first = _replay(hub, rebuilt_url)
    second = _replay(hub, rebuilt_url)

    rebuilt = AuditStore(rebuilt_url)
    try:
        assert first["inserted"] == first["read"] - first["undecodable"] > 0
        # The worker may append entries (deadline breaches) between the runs: only those are new.
        assert second["read"] >= first["read"]
        assert second["inserted"] == second["read"] - first["read"]
        assert rebuilt.count() == second["read"] - second["undecodable"]
        for case_id in cases:
            original = [(r.seq, r.hash, r.event, r.disclosures) for r in hub.store.trail(case_id)]
            copied = [(r.seq, r.hash, r.event, r.disclosures) for r in rebuilt.trail(case_id)]
            assert copied == original
        assert verify_store(rebuilt).ok
        offsets = rebuilt.consumed_offsets()
        assert sum(offsets.values()) == second["read"]
    finally:
        rebuilt.close()


def test_replay_closes_the_store_it_rebuilt(hub: RunningHub, postgres: PostgresServer) -> None:
    # A process that runs the command among others (an operator's script, a scheduler) keeps
    # no connection of it: none is left for the garbage collector to find open.
    url = postgres.create_database(f"kawal_replay_{uuid.uuid4().hex[:8]}")
    settings = {
        "KAWAL_BROKER_URL": f"tansu://{hub.bootstrap[0]}",
        "KAWAL_AUDIT_DB_URL": url,
        "KAWAL_HOME": str(hub.home),  # its key registry: which entries the hub made
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        done = kawal_here(settings, "replay", "--json")
        gc.collect()

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["inserted"] >= 0
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_a_replay_that_cannot_read_says_why_as_json_too(tmp_path: Path) -> None:
    # A script asking --json got nothing on stdout: the error was a line on stderr only.
    broker = start_ephemeral_broker(tmp_path / "broker")
    try:
        env = dict(
            os.environ,
            KAWAL_HOME=str(tmp_path / "home"),
            KAWAL_BROKER_URL=f"tansu://{broker.bootstrap_servers}",
            KAWAL_AUDIT_DB_URL=f"sqlite:///{tmp_path / 'rebuilt.db'}",
        )
        command = [sys.executable, "-m", "streams.cli", "replay", "--json"]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    finally:
        broker.stop()

    assert done.returncode == 1, done
    error = json.loads(done.stdout)["error"]
    assert "kawal.case.audit" in error
    assert f"kawal: {error}" in done.stderr
