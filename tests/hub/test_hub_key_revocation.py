"""The running hub never signs with a key revoked in its registry, and says when it cannot sign.

A real worker and audit sink on a broker of their own, shared by this file's tests (each with
cases of its own, each revoking whichever hub key is valid when it starts). The hub's key is
revoked with `kawal keys revoke` while they run: with a successor registered, whatever they
sign next is signed with the successor, and connectors and `kawal audit verify` believe it;
without one, they sign nothing, say so (``kawal_hub_signing_key_valid`` 0, ``/readyz`` 503)
and the events wait until a key is registered, then go through.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from unittest.mock import patch

import pytest

from streams.audit.tree_log import TreeLog
from streams.audit.verify import verify_store
from streams.cli import main
from streams.domain.entries import EntryProblem, check_entry
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keys import load_key_registry
from streams.local.embedded import EmbeddedBroker
from streams.settings import Settings
from streams.topics import outbound_topic
from tests.hubtools import (
    RunningHub,
    http_get,
    metric_value,
    recommendation,
    registration,
    report,
    start_hub,
)

VALID_SERIES = "kawal_hub_signing_key_valid"
#: Longest wait for the hub to notice a changed registry, s (it checks every 2 s and per batch).
NOTICE_SECONDS = 30.0


@pytest.fixture(scope="module")
def hub(
    module_broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningHub]:
    """A worker and a sink of this file alone, signing heads at most every second."""
    home = tmp_path_factory.mktemp("revocation") / "home"
    running = start_hub(module_broker.url, home, hub_env={"KAWAL_TREE_HEAD_SECONDS": "1"})
    try:
        yield running
    finally:
        running.stop()


def kawal(home: Path, *args: str) -> str:
    """``kawal ARGS`` as an operator runs it on the hub's machine; what it printed.

    In this process rather than as one: the command is the same, without the two seconds a
    fresh interpreter spends importing the hub.
    """
    out, err = io.StringIO(), io.StringIO()
    with (
        patch.dict(os.environ, {"KAWAL_HOME": str(home)}),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        code = main(list(args))
    assert code == 0, out.getvalue() + err.getvalue()
    return out.getvalue()


def hub_key_id(home: Path) -> str:
    """The id of the hub's one signing key in the local registry that is not revoked."""
    registry = load_key_registry(Settings(home=home).local_key_registry)
    [entry] = [
        e for e in registry.entries() if e.institution == HUB_INSTITUTION and e.revoked_at is None
    ]
    return entry.id


def register_new_hub_key(home: Path, *valid_from: str) -> str:
    """``kawal keys new kawal --use signing``, its printed entry added to the registry; its id."""
    printed = kawal(home, "keys", "new", HUB_INSTITUTION, "--use", "signing", *valid_from)
    registry = Settings(home=home).local_key_registry
    with registry.open("a", encoding="utf-8") as file:
        file.write("\n" + printed)
    [line] = [line for line in printed.splitlines() if line.startswith("id = ")]
    return line.split('"')[1]


def revoke(home: Path, key_id: str) -> None:
    """``kawal keys revoke KEY_ID``, from now: entries recorded before stay believed."""
    kawal(home, "keys", "revoke", key_id, "--reason", "drill")


def wait_until(what: str, done: Callable[[], bool], hub: RunningHub) -> None:
    """Wait for ``done()``; fail saying ``what`` went wrong, with the worker's log."""
    deadline = time.monotonic() + NOTICE_SECONDS
    while not done():
        assert time.monotonic() < deadline, f"{what}\n{hub.worker.log_tail(30)}"
        time.sleep(0.3)


def gauge_is(url: str, value: float) -> Callable[[], bool]:
    """Whether the process at ``url`` exports ``kawal_hub_signing_key_valid`` ``value`` now."""
    return lambda: metric_value(url, VALID_SERIES) == value


def test_a_revoked_hub_key_gives_way_to_its_successor_without_a_restart(
    hub: RunningHub,
) -> None:
    old = hub_key_id(hub.home)
    case_id = hub.open_case()
    assert {row.hub_key_id for row in hub.store.trail(case_id)} == {old}

    new = register_new_hub_key(hub.home)
    revoke(hub.home, old)
    rows = hub.step("RecommendationIssued", recommendation(case_id))

    assert rows[-1].hub_key_id == new
    registry = load_key_registry(Settings(home=hub.home).local_key_registry)
    assert verify_store(hub.store, keys=registry).ok
    # The PPK's connector, with the registry as it now is, believes the entry.
    [entry, *_] = hub.read(
        outbound_topic("ppk.3374"),
        lambda r: "key_id" in r and r["case_id"] == case_id and r["seq"] == rows[-1].seq,
    )
    opened = hub.opened("ppk.3374", entry)
    assert not isinstance(check_entry(hub.codec, registry, entry, opened), EntryProblem)
    wait_until(
        "no tree head signed with the new key",
        lambda: (
            (head := TreeLog(hub.store.engine).latest_head()) is not None
            and head.key_id == new
            and head.tree_size == hub.store.count()
        ),
        hub,
    )
    assert metric_value(hub.base_url, VALID_SERIES) == 1
    assert metric_value(hub.sink_url, VALID_SERIES) == 1


def test_with_no_valid_key_the_hub_signs_nothing_says_so_and_events_wait(
    hub: RunningHub,
) -> None:
    first = report()
    case_id = first["envelope"]["case_id"]
    hub.step("ReportReceived", first)
    old = hub_key_id(hub.home)

    revoke(hub.home, old)
    for url in (hub.base_url, hub.sink_url):
        wait_until("the gauge stays 1", gauge_is(url, 0), hub)
        status, body = http_get(f"{url}/readyz")
        assert status == 503
        assert json.loads(body)["hub_signing_key"] == "invalid"
    hub.publish("ReportRegistered", registration(case_id))
    time.sleep(3)  # time enough for the worker to take and sign it, were it to sign
    assert len(hub.store.trail(case_id)) == 1
    logged = hub.worker.log_tail(60)
    assert "the hub's signing key is unavailable" in logged
    assert f"{old} was revoked at" in logged
    revoked = load_key_registry(Settings(home=hub.home).local_key_registry)
    [ended] = [e.revoked_at for e in revoked.entries() if e.id == old]
    assert ended is not None
    # What the log says to do: a key valid from the revocation, so the waiting events verify.
    assert f"--valid-from {ended.isoformat()}`" in logged

    new = register_new_hub_key(hub.home, "--valid-from", ended.isoformat())
    rows = hub.wait_trail(case_id, 2)

    assert [row.hub_key_id for row in rows] == [old, new]
    registry = load_key_registry(Settings(home=hub.home).local_key_registry)
    assert verify_store(hub.store, keys=registry).ok
    for url in (hub.base_url, hub.sink_url):
        wait_until("the gauge stays 0", gauge_is(url, 1), hub)
        assert http_get(f"{url}/readyz")[0] == 200
