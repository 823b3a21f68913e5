"""`kawal status` against a real hub (worker, sink, broker, store), and a second worker refused.

The hub is this file's own: its last test kills the sink.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.cli.exits import EXIT_DOWN, EXIT_ERROR, EXIT_NOT_RUNNING, EXIT_OK
from streams.local.embedded import EmbeddedBroker
from streams.local.processes import ChildProcess, free_port
from tests.hubtools import RunningHub, hub_process, start_hub
from tests.in_process import Done, kawal_here

pytestmark = pytest.mark.slow

#: Every check a hub without `kawal up --demo` or `--monitoring` is given, in order.
CHECKS = ["worker", "sink", "broker", "audit_store", "hub_key", "lag"]
#: The keys of `kawal status --json`, and of each of its checks (docs/operations.md).
REPORT_KEYS = {"state", "home", "source", "processes", "checks", "exit_code"}
CHECK_KEYS = {"name", "state", "reason", "runbook"}
#: What a worker's or sink's log says when its group rebalances (Faust's and aiokafka's words).
REBALANCE_LINES = (
    "Joined group",
    "Elected group leader",
    "Rebalancing",
    "Assigned partitions",
    "[^---Recovery]",
)


@pytest.fixture(scope="module")
def own_hub(
    module_broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningHub]:
    hub = start_hub(module_broker.url, tmp_path_factory.mktemp("status") / "home")
    try:
        yield hub
    finally:
        hub.stop()


def _status(hub: RunningHub, broker: EmbeddedBroker, *args: str) -> Done:
    """``kawal status ARGS`` with the settings of ``hub``'s worker and sink."""
    return kawal_here(
        {
            "KAWAL_HOME": str(hub.home),
            "KAWAL_BROKER_URL": broker.url,
            "KAWAL_WEB_PORT": hub.base_url.rsplit(":", 1)[1],
            "KAWAL_SINK_PORT": hub.sink_url.rsplit(":", 1)[1],
        },
        "status",
        *args,
    )


def test_a_running_hub_is_ok_every_check_named_and_exit_0(
    own_hub: RunningHub, module_broker: EmbeddedBroker
) -> None:
    done = _status(own_hub, module_broker, "--json")
    assert done.returncode == EXIT_OK, done
    report = json.loads(done.stdout)
    assert set(report) == REPORT_KEYS
    assert (report["state"], report["exit_code"], report["source"]) == ("OK", 0, "settings")
    assert report["home"] == str(own_hub.home.resolve())
    assert report["processes"] == {"worker": own_hub.worker.pid, "sink": own_hub.sink.pid}
    assert [check["name"] for check in report["checks"]] == CHECKS
    for check in report["checks"]:
        assert set(check) == CHECK_KEYS
        assert (check["state"], check["runbook"]) == ("OK", None), check

    text = _status(own_hub, module_broker)
    assert text.returncode == EXIT_OK, text
    lines = text.stdout.splitlines()
    assert lines[0].startswith("kawal status: OK (KAWAL_HOME=")
    assert [line.split()[:2] for line in lines[1:]] == [["OK", name] for name in CHECKS]


@pytest.mark.parametrize("role", ["worker", "sink"])
def test_a_second_process_of_a_role_on_the_home_is_refused_and_the_first_goes_on(
    own_hub: RunningHub, module_broker: EmbeddedBroker, role: str
) -> None:
    running = own_hub.worker if role == "worker" else own_hub.sink
    logged_before = running.log_path.stat().st_size
    second = hub_process(role, own_hub.home, module_broker.url, free_port())
    second.log_path = own_hub.home.parent / f"second-{role}.log"
    second.start()
    said = _ended(second)
    assert second.returncode == EXIT_ERROR, said
    assert (
        f"kawal: a Kawal {role} is already running on KAWAL_HOME={own_hub.home.resolve()} "
        f"(pid {running.pid}); stop it first, or set another KAWAL_HOME"
    ) in said
    # Refused before it opened a table or joined the group: nothing but the refusal.
    assert "is locked" not in said
    assert "Crashed" not in said
    # The running one saw no one join its group, and goes on with the next case.
    case_id = own_hub.open_case()
    own_hub.wait_trail(case_id, 4)
    with running.log_path.open("rb") as log:
        log.seek(logged_before)
        since = log.read().decode(errors="replace")
    for rebalanced in REBALANCE_LINES:
        assert rebalanced not in since, since
    assert running.alive


def _ended(child: ChildProcess, timeout: float = 60.0) -> str:
    """What ``child`` logged, once it exited."""
    deadline = time.monotonic() + timeout
    while child.returncode is None:
        assert time.monotonic() < deadline, child.log_tail(40)
        time.sleep(0.1)
    return child.log_tail(40)


def test_no_hub_on_the_home_is_not_running_exit_11(tmp_path: Path) -> None:
    done = kawal_here(
        {
            "KAWAL_HOME": str(tmp_path / "home"),
            "KAWAL_BROKER_URL": f"kafka://127.0.0.1:{free_port()}",
            "KAWAL_WEB_PORT": str(free_port()),
            "KAWAL_SINK_PORT": str(free_port()),
        },
        "status",
        "--json",
    )
    assert done.returncode == EXIT_NOT_RUNNING, done
    report = json.loads(done.stdout)
    assert (report["state"], report["exit_code"], report["processes"]) == ("NOT_RUNNING", 12, {})
    assert [check["name"] for check in report["checks"]] == CHECKS
    # Asking made nothing: no home, no store.
    assert not (tmp_path / "home").exists()


def test_a_killed_sink_is_down_with_its_reason_and_runbook_exit_10(
    own_hub: RunningHub, module_broker: EmbeddedBroker
) -> None:
    own_hub.sink.stop(20)
    done = _status(own_hub, module_broker, "--json")
    assert done.returncode == EXIT_DOWN, done
    report = json.loads(done.stdout)
    assert report["state"] == "DOWN"
    checks = {check["name"]: check for check in report["checks"]}
    assert checks["sink"] == {
        "name": "sink",
        "state": "DOWN",
        "reason": f"does not answer at {own_hub.sink_url} (connection refused)",
        "runbook": "docs/operations.md#kawalprocessdown",
    }
    assert {name for name, check in checks.items() if check["state"] != "OK"} == {"sink"}
    assert "sink" not in report["processes"]
    text = _status(own_hub, module_broker)
    assert text.returncode == EXIT_DOWN
    assert "DOWN      sink         does not answer" in text.stdout
    assert "-> docs/operations.md#kawalprocessdown" in text.stdout
