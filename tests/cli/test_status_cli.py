"""`kawal status` against a real hub (worker, sink, broker, store), and a second worker refused.

The hub is this file's own: its last test kills the sink.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.cli.exits import EXIT_DOWN, EXIT_ERROR, EXIT_NOT_RUNNING, EXIT_OK
from streams.local.embedded import EmbeddedBroker
from streams.local.processes import ChildProcess, free_port
from streams.status.report import DEADLINE_SECONDS
from tests.freezing import frozen
from tests.hubtools import RunningHub, hub_process, start_hub
from tests.in_process import Done, kawal_here

pytestmark = pytest.mark.slow

#: Every check a hub without `kawal up --demo` or `--monitoring` is given, in order.
CHECKS = [
    "worker",
    "sink",
    "broker",
    "audit_store",
    "hub_key",
    "lag",
    "sink_store",
    "sink_lag",
    "sink_dead_letters",
]
#: The process each check is about, as the text report groups them.
PROCESSES = {
    "worker": ["worker", "hub_key", "lag"],
    "sink": ["sink", "sink_store", "sink_lag", "sink_dead_letters"],
    "hub": ["broker", "audit_store"],
}
#: The keys of `kawal status --json`, and of each of its checks (docs/operations.md).
REPORT_KEYS = {"state", "home", "source", "processes", "checks", "exit_code", "addresses"}
CHECK_KEYS = {"name", "state", "reason", "runbook", "process"}
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
    assert report["addresses"] == {"worker": own_hub.base_url, "sink": own_hub.sink_url}
    assert [check["name"] for check in report["checks"]] == CHECKS
    for check in report["checks"]:
        assert set(check) == CHECK_KEYS
        assert (check["state"], check["runbook"]) == ("OK", None), check
        assert check["name"] in PROCESSES[check["process"]]

    text = _status(own_hub, module_broker)
    assert text.returncode == EXIT_OK, text
    lines = text.stdout.splitlines()
    assert lines[0].startswith("kawal status: OK (KAWAL_HOME=")
    expected = [
        line
        for process, names in PROCESSES.items()
        for line in [[process], *(["OK", name] for name in names)]
    ]
    assert [
        line.split()[:1] if not line.startswith(" ") else line.split()[:2] for line in lines[1:]
    ] == expected


def test_the_sink_s_work_is_shown_after_it_stored_a_case(
    own_hub: RunningHub, module_broker: EmbeddedBroker
) -> None:
    case_id = own_hub.open_case()
    own_hub.wait_trail(case_id, 4)
    report = json.loads(_status(own_hub, module_broker, "--json").stdout)
    checks = {check["name"]: check for check in report["checks"]}
    assert checks["sink_lag"]["state"] == "OK", checks
    assert re.fullmatch(
        # The worker reads lag on its timer: a hub this young may not have read it yet.
        r"(\d+ entries wait on kawal\.case\.audit|not read yet by the worker); "
        r"last entry stored \d+ s ago",
        checks["sink_lag"]["reason"],
    ), checks["sink_lag"]
    assert checks["sink_store"]["reason"].startswith("takes the sink's writes (0 failed")


def test_a_frozen_sink_is_down_as_timed_out_within_a_bounded_time(
    own_hub: RunningHub, module_broker: EmbeddedBroker
) -> None:
    assert own_hub.sink.pid is not None
    with frozen(own_hub.sink.pid):
        started = time.monotonic()
        done = _status(own_hub, module_broker, "--json")
        took = time.monotonic() - started
    assert done.returncode == EXIT_DOWN, done
    # Each address has 2 s and all checks 5 s; the rest is the CLI's own start.
    assert took < DEADLINE_SECONDS + 10, took
    checks = {check["name"]: check for check in json.loads(done.stdout)["checks"]}
    assert checks["sink"]["state"] == "DOWN"
    assert checks["sink"]["reason"] == (
        f"does not answer at {own_hub.sink_url} (timed out): sink accepts connections but "
        "answers nothing (frozen or overloaded); read its log, then restart it"
    )
    assert checks["sink"]["runbook"] == "docs/operations.md#kawalprocessdown"
    for name in ("sink_store", "sink_lag", "sink_dead_letters"):
        assert checks[name]["state"] == "DEGRADED", checks[name]
        assert checks[name]["reason"] == "unknown: the sink's /metrics does not answer (timed out)"
    # The worker is not blamed for the sink.
    for name in PROCESSES["worker"]:
        assert checks[name]["state"] == "OK", checks[name]


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
        "reason": f"does not answer at {own_hub.sink_url} (connection refused): sink is not "
        "running there; start it, or set the port it serves on",
        "runbook": "docs/operations.md#kawalprocessdown",
        "process": "sink",
    }
    assert {name for name, check in checks.items() if check["state"] != "OK"} == set(
        PROCESSES["sink"]
    )
    assert "sink" not in report["processes"]
    text = _status(own_hub, module_broker)
    assert text.returncode == EXIT_DOWN
    sink_section = text.stdout.split(f"\nsink ({own_hub.sink_url})\n")[1].split("\nhub (")[0]
    assert sink_section.startswith("  DOWN      sink               does not answer"), text.stdout
    assert "-> docs/operations.md#kawalprocessdown" in text.stdout
