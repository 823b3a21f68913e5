"""A damaged file in the hub's key folder beside a valid key: reported, never a stop.

A real worker and sink each time, on a home whose ``keys/kawal/`` holds the hub's valid key and
one damaged file of each kind (:class:`streams.domain.hub_key_files.KeyFileDamage`). Before,
any of them stopped both processes at their start, or (a key others may read) was signed with.
Now the worker runs and signs with the valid key, ``kawal_hub_key_file_damaged`` names the file,
``kawal status`` says ``DEGRADED`` naming it, and the log says it once, never the key. With no
usable key at all, the worker still stops at its start, saying what to do.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from streams.cli.exits import EXIT_DEGRADED
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keys import (
    KeyUse,
    load_key_registry,
    new_encryption_key_pair,
    new_key_pair,
    private_key_path,
)
from streams.local.embedded import EmbeddedBroker
from streams.local.keyring import ensure_local_keys, write_private_key
from streams.local.processes import ChildProcess, free_port
from streams.settings import Settings
from tests.hubtools import RunningHub, http_get, hub_process, start_hub
from tests.in_process import kawal_here

pytestmark = pytest.mark.slow

#: The damaged file's name where the kind of damage does not make its own.
NAME = "0a1b2c3d4e5f6a7b.pem"
#: Longest wait for the worker to stop at its start, s.
STOP_SECONDS = 60.0


def unreadable(settings: Settings) -> tuple[str, bytes]:
    """A folder where a key file should be: nothing the hub can read as a file."""
    (settings.key_dir / HUB_INSTITUTION / NAME).mkdir()
    return NAME, b""


def wrong_mode(settings: Settings) -> tuple[str, bytes]:
    """A registered hub key, newer than the valid one, that every user may read.

    Whole and valid, it would be the key the hub signs with (the newest): others may have read
    it, so the hub does not.
    """
    key = new_key_pair(HUB_INSTITUTION, datetime.now(UTC) - timedelta(days=1))
    path = key.path_in(settings.key_dir)
    write_private_key(path, key.private_pem)
    path.chmod(0o644)
    with settings.local_key_registry.open("a", encoding="utf-8") as registry:
        registry.write("\n" + key.registry_text())
    return path.name, key.private_pem


def truncated(settings: Settings) -> tuple[str, bytes]:
    """A PEM key cut short, as a full disk or a crash leaves a copy made by hand."""
    cut = b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI"
    write_private_key(settings.key_dir / HUB_INSTITUTION / NAME, cut)
    return NAME, cut


def not_a_key(settings: Settings) -> tuple[str, bytes]:
    """The hub's encryption key put among its signing keys: whole, but no Ed25519 key."""
    key = new_encryption_key_pair(HUB_INSTITUTION, datetime.now(UTC))
    path = settings.key_dir / HUB_INSTITUTION / key.path_in(settings.key_dir).name
    write_private_key(path, key.private_pem)
    return path.name, key.private_pem


DAMAGES: dict[str, Callable[[Settings], tuple[str, bytes]]] = {
    "unreadable": unreadable,
    "wrong_mode": wrong_mode,
    "truncated": truncated,
    "not_a_key": not_a_key,
}


def valid_hub_key(settings: Settings) -> str:
    """The id of the hub's one signing key that ``kawal keys init`` made."""
    registry = load_key_registry(settings.local_key_registry)
    [entry] = [e for e in registry.valid_keys(HUB_INSTITUTION, datetime(2001, 1, 1, tzinfo=UTC))]
    return entry.id


def damaged_series(base_url: str) -> list[str]:
    """The ``kawal_hub_key_file_damaged`` series at 1 on ``base_url``/metrics."""
    status, body = http_get(f"{base_url}/metrics")
    assert status == 200
    return [
        line.rpartition(" ")[0]
        for line in body.decode().splitlines()
        if line.startswith("kawal_hub_key_file_damaged{") and line.endswith(" 1.0")
    ]


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_the_hub_signs_with_its_valid_key_and_names_the_damaged_file(
    module_broker: EmbeddedBroker, tmp_path: Path, damage: str
) -> None:
    home = tmp_path / "home"
    settings = Settings(home=home)
    ensure_local_keys(settings)
    valid = valid_hub_key(settings)
    name, content = DAMAGES[damage](settings)

    hub = start_hub(module_broker.url, home)
    try:
        case_id = hub.open_case()
        status = status_of(hub, module_broker)
    finally:
        hub.stop()

    assert {row.hub_key_id for row in hub.store.trail(case_id)} == {valid}
    series = f'kawal_hub_key_file_damaged{{damage="{damage}",file="{name}"}}'
    assert status.series == {"worker": [series], "sink": [series]}
    assert status.exit_code == EXIT_DEGRADED, status.report
    [key_check] = [c for c in status.report["checks"] if c["name"] == "hub_key"]
    assert key_check["state"] == "DEGRADED"
    assert key_check["reason"] == f"valid, but key files are set aside: {name} ({damage})"
    assert key_check["runbook"] == "docs/operations.md#kawalhubkeyfiledamaged"
    logged = hub.worker.log_path.read_text(encoding="utf-8")
    # Said once, though the folder is read again every 2 s, naming the file, never the key.
    assert logged.count(f"is set aside ({damage})") == 1, logged
    assert str(settings.key_dir / HUB_INSTITUTION / name) in logged
    body = content.split(b"\n")[1] if b"\n" in content else b""
    assert not body or body.decode() not in logged


@dataclass(frozen=True)
class Status:
    """What ``kawal status --json`` and the processes' metrics said of a running hub."""

    exit_code: int
    report: dict[str, Any]
    #: The damaged-file series at 1, by process.
    series: dict[str, list[str]]


def status_of(hub: RunningHub, broker: EmbeddedBroker) -> Status:
    """``kawal status --json`` of ``hub``, and the damaged-file series of its processes."""
    done = kawal_here(
        {
            "KAWAL_HOME": str(hub.home),
            "KAWAL_BROKER_URL": broker.url,
            "KAWAL_WEB_PORT": hub.base_url.rsplit(":", 1)[1],
            "KAWAL_SINK_PORT": hub.sink_url.rsplit(":", 1)[1],
        },
        "status",
        "--json",
    )
    series = {"worker": damaged_series(hub.base_url), "sink": damaged_series(hub.sink_url)}
    return Status(done.returncode, json.loads(done.stdout), series)


def test_with_no_usable_key_the_worker_still_stops_at_its_start_saying_what_to_do(
    module_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    settings = Settings(home=home)
    ensure_local_keys(settings)
    valid = valid_hub_key(settings)
    path = private_key_path(settings.key_dir, valid, KeyUse.SIGNING)
    path.write_bytes(b"")  # the registered key's own file, cut short

    worker = hub_process("worker", home, module_broker.url, free_port())
    worker.start()
    said = ended(worker)

    assert worker.returncode != 0
    assert "the hub's signing key is unavailable" in said or "no key of the hub" in said
    assert "the folder holds no key that reads; set aside: " + path.name in said
    assert f"the private key file {path} is empty" in said
    assert f"{valid} is in the key registry: restore the file from the backup" in said
    assert "start the hub again" in said


def ended(child: ChildProcess) -> str:
    """What ``child`` logged, once it exited."""
    deadline = time.monotonic() + STOP_SECONDS
    while child.returncode is None:
        assert time.monotonic() < deadline, child.log_tail(40)
        time.sleep(0.1)
    return child.log_tail(60)
