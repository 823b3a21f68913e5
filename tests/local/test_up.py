"""`kawal up` as a user runs it: demo, stop on SIGTERM, refusal of a second instance.

Ctrl-C, which stops a `kawal up` run in a terminal, is tested on the hub of
tests/local/test_up_monitoring.py, which has one more child to stop.
"""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from kafka import KafkaConsumer

from connectors.authority.demo_history import history_cases
from connectors.ppk.demo_history import history_decrees
from schemas.identity import case_id_for
from streams.domain.entries import EntryProblem, check_entry
from streams.domain.keys import load_key_registry
from streams.local.demo import demo_waves
from streams.local.demo_mix import mix_waves
from streams.local.processes import free_port
from streams.local.storage import free_storage_base_port
from streams.settings import Settings
from streams.topics import inbound_topic, outbound_topic
from tests.hubtools import UpProcess, default_codec, http_get, start_up, up_env
from tests.in_process import Done, kawal_here
from tests.up_stops import stop_code

pytestmark = pytest.mark.slow

#: The demo's connected PPK, whose decree registry the demo simulates.
PPK = "ppk.3374"
#: The demo's recommending authority, whose case register the demo simulates.
AUTHORITY = "bkn"


@pytest.fixture(scope="module")
def demo_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpProcess]:
    home = tmp_path_factory.mktemp("up") / "home"
    env = up_env(home, free_port(), free_port(), free_storage_base_port())
    up = start_up(home, env, "--demo", "--ephemeral")
    try:
        up.wait_healthy()
        yield up
    finally:
        if up.process.poll() is None:
            up.process.kill()
            up.process.wait()


def _kawal(home: Path, *args: str) -> Done:
    """``kawal ARGS`` on the audit store of ``home``, run in this process.

    These commands only read the store the hub's sink writes: starting Python for each would
    cost seconds of the CPU the hub under test needs.
    """
    return kawal_here({"KAWAL_HOME": str(home)}, *args)


def _second_up(first: UpProcess, env: dict[str, str], *args: str) -> Done:
    """``kawal up --ephemeral ARGS`` in this process beside ``first``, which must still run.

    Were ``first`` gone, nothing would be taken and the hub would start here.
    """
    assert first.process.poll() is None, first.text()[-3000:]
    return kawal_here(env, "up", "--ephemeral", *args)


#: How long the simulated institutions may take to carry one case from report to closing.
CONNECTOR_CASE_SECONDS = 180.0


def _wait_for_output(up: UpProcess, needle: str, timeout: float = 90.0) -> str:
    deadline = time.monotonic() + timeout
    while needle not in up.text():
        assert time.monotonic() < deadline, up.text()
        assert up.process.poll() is None, up.text()
        time.sleep(0.2)
    return up.text()


def test_the_audit_sink_runs_beside_the_worker_with_its_own_health_and_metrics(
    demo_up: UpProcess,
) -> None:
    _wait_for_output(demo_up, "published demo cases")
    sink_url = f"http://127.0.0.1:{demo_up.sink_port}"

    def sink_counts() -> tuple[int, dict[str, object], float]:
        status, body = http_get(f"{sink_url}/health")
        _, metrics = http_get(f"{sink_url}/metrics")
        stored = next(
            line
            for line in metrics.decode().splitlines()
            if line.startswith('kawal_events_total{outcome="accepted",stage="sink"}')
        )
        return status, json.loads(body), float(stored.split()[-1])

    # The demo's clocks and portal report may still be flowing: read both until they agree.
    deadline = time.monotonic() + 60
    status, health, stored = sink_counts()
    while stored != health["audit_entries"] and time.monotonic() < deadline:
        time.sleep(0.5)
        status, health, stored = sink_counts()

    assert status == 200
    assert cast(int, health["audit_entries"]) > 0
    assert stored == health["audit_entries"]
    assert "sink_metrics" in demo_up.text()


def test_demo_cases_are_readable_with_case_trail(demo_up: UpProcess) -> None:
    output = _wait_for_output(demo_up, "published demo cases")
    line = next(line for line in output.splitlines() if "published demo cases" in line)
    case_ids = line.split("published demo cases", 1)[1].strip().split(", ")

    trails = [
        json.loads(_kawal(demo_up.home, "case", "trail", cid, "--json").stdout) for cid in case_ids
    ]

    assert len(case_ids) == 3
    assert all(trail["verified"] for trail in trails)
    # The deadline timer may add DeadlineBreached entries: the demo's dates are in the past.
    steps = [
        [e for e in trail["entries"] if e["event_type"] != "DeadlineBreached"] for trail in trails
    ]
    full = [entries for entries in steps if len(entries) == 6]
    assert len(full) == 2
    for entries in full:
        assert [e["event_type"] for e in entries] == [
            "ReportReceived",
            "ReportRegistered",
            "VerificationCompleted",
            "ReferralForwarded",
            "RecommendationIssued",
            "SanctionImposed",
        ]
    authorities = {entries[4]["fields"]["authority"] for entries in full}
    assert authorities == {"kasn", "bkn"}
    listing = json.loads(_kawal(demo_up.home, "case", "list", "--json").stdout)
    # The demo's connectors add cases of their own (Bawaslu's webhook, the inspectorate).
    assert set(case_ids) <= {case["case_id"] for case in listing}
    verified = _kawal(demo_up.home, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("verified ")


def _feed_entries(up: UpProcess, institution: str, timeout: float = 120.0) -> list[dict[str, Any]]:
    """The decoded records of ``institution``'s feed on the demo's broker, once it has one."""
    consumer = KafkaConsumer(
        outbound_topic(institution),
        bootstrap_servers=[f"127.0.0.1:{up.broker_port}"],
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    codec = default_codec()
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while not found and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                found += [codec.decode(record.value).record for record in records]
    finally:
        consumer.close()
    return found


def test_the_demos_breached_deadlines_reach_both_ministries_signed(demo_up: UpProcess) -> None:
    _wait_for_output(demo_up, "published demo cases")
    registry = load_key_registry(Settings(home=demo_up.home).key_registry_file)
    codec = default_codec()

    for ministry in ("kemenpanrb", "kemendagri"):
        entries = _feed_entries(demo_up, ministry)
        assert entries, f"nothing on {ministry}'s feed\n{demo_up.text()[-3000:]}"
        # Only breaches: the ministries' role consumes nothing else, and they send nothing.
        assert {entry["event_type"] for entry in entries} == {"DeadlineBreached"}
        for entry in entries:
            assert not isinstance(check_entry(codec, registry, entry), EntryProblem)
            assert entry["disclosures"] == entry["feed_disclosures"] == []


def test_the_demo_adds_a_mix_of_cases_for_the_dashboard(demo_up: UpProcess) -> None:
    output = _wait_for_output(demo_up, "more demo cases for the dashboard")
    line = next(line for line in output.splitlines() if "more demo cases" in line)
    published = int(line.split("published ", 1)[1].split(" ", 1)[0])
    listing = json.loads(_kawal(demo_up.home, "case", "list", "--json").stdout)
    steps: dict[str, list[str]] = {}
    for wave in mix_waves():
        for event_type, record in wave:
            steps.setdefault(record["envelope"]["case_id"], []).append(event_type)
    stored = {case["case_id"]: case["entries"] for case in listing if case["case_id"] in steps}

    assert published == len(steps)
    # Every step is in the trail. The demo's simulated offices may have acted on a case since
    # (BKN recommends on a referral, closes a sanctioned case), so its trail can be longer.
    assert all(stored.get(case_id, 0) >= len(events) for case_id, events in steps.items())
    assert {events[-1] for events in steps.values()} >= {
        "ReportReceived",
        "ReportRejected",
        "VerificationCompleted",
        "RecommendationIssued",
        "SanctionImposed",
    }


def test_demo_connectors_carry_a_case_between_the_simulated_systems(demo_up: UpProcess) -> None:
    """Bawaslu's webhook → BKN's outbox → the PPK's decree registry → closed by BKN."""
    output = _wait_for_output(demo_up, "published demo cases")
    line = next(line for line in output.splitlines() if "published demo cases" in line)
    wave_cases = set(line.split("published demo cases", 1)[1].strip().split(", "))
    deadline = time.monotonic() + CONNECTOR_CASE_SECONDS
    while True:
        closed = _closed_connector_case(demo_up, wave_cases)
        if closed is not None or time.monotonic() > deadline:
            break
        time.sleep(2)
    log = (demo_up.home / "logs" / "connectors.log").read_text()
    assert "demo connectors running: bawaslu-webhook" in log
    assert closed is not None, log[-3000:]
    sources = {(e["event_type"], e["envelope"]["source"]) for e in closed["entries"]}
    assert {
        ("ReportReceived", "bawaslu.33"),
        ("RecommendationIssued", "bkn"),
        ("SanctionImposed", "ppk.3374"),
        ("CaseClosed", "bkn"),
    } <= sources


def _decrees(database: Path, query: str) -> dict[str, set[str]]:
    """``query``'s (case id, decree number) rows as the numbers of each case; none: no file."""
    if not database.exists():
        return {}
    found: dict[str, set[str]] = {}
    with sqlite3.connect(database) as connection:
        for case_id, number in connection.execute(query):
            found.setdefault(case_id, set()).add(number)
    return found


def _hub_decrees(up: UpProcess) -> dict[str, set[str]]:
    """The decree numbers of the SanctionImposed entries in the audit store, by case."""
    codec = default_codec()
    found: dict[str, set[str]] = {}
    with sqlite3.connect(up.home / "audit.db") as connection:
        rows = connection.execute(
            "SELECT case_id, event FROM audit_entries WHERE event_type = 'SanctionImposed'"
        )
        for case_id, event in rows:
            found.setdefault(case_id, set()).add(codec.decode(event).record["decree_number"])
    return found


def test_the_demo_ppks_registry_and_the_hub_agree_on_every_decree(demo_up: UpProcess) -> None:
    """The history's decrees are the registry's: its office makes no second one for a case."""
    _wait_for_output(demo_up, "more demo cases for the dashboard")
    registry = demo_up.home / "simulators" / "ppk.3374" / "decrees.db"
    signed = "SELECT case_id, decree_number FROM decrees WHERE status = 'SIGNED'"
    filed = (
        "SELECT r.case_id, d.decree_number FROM recommendations r "
        "JOIN decrees d ON d.id = r.decree_id"
    )
    history = {decree["case_id"]: {decree["decree_number"]} for decree in history_decrees(PPK)}
    deadline = time.monotonic() + CONNECTOR_CASE_SECONDS
    while True:
        held = _decrees(registry, signed)
        # The office filed each history case's recommendation with the history's decree, and
        # decreed a live case (the history's old recommendations it leaves: docs/demo.md).
        if _decrees(registry, filed).items() >= history.items() and len(held) > len(history):
            break
        assert time.monotonic() < deadline, held
        time.sleep(2)
    # The hub records every decree the office held then, with its number. The demo goes on
    # decreeing meanwhile: a decree signed since may still be on its way, so it is not asked.
    while missing := _unrecorded(demo_up, held):
        assert time.monotonic() < deadline, missing
        time.sleep(2)

    letters = kawal_here(
        {"KAWAL_HOME": str(demo_up.home), "KAWAL_EMBEDDED_BROKER_PORT": str(demo_up.broker_port)},
        *("dlq", "list", "--source-topic", inbound_topic(PPK), "--json"),
    )
    assert json.loads(letters.stdout) == [], letters.stdout


def _unrecorded(up: UpProcess, held: dict[str, set[str]]) -> dict[str, Any]:
    """The decrees ``held`` the audit store lacks, with what it holds of their cases instead."""
    recorded = _hub_decrees(up)
    return {
        case_id: (numbers, recorded.get(case_id))
        for case_id, numbers in held.items()
        if recorded.get(case_id) != numbers
    }


def _closed_connector_case(up: UpProcess, wave_cases: set[str]) -> dict[str, Any] | None:
    """A closed case's trail the connectors carried (no demo wave published it), sanctioned.

    BKN's staff find a share of cases not proven (docs/demo.md): those close unsanctioned.
    """
    for case in json.loads(_kawal(up.home, "case", "list", "--json").stdout):
        if case["last_event_type"] == "CaseClosed" and case["case_id"] not in wave_cases:
            trail: dict[str, Any] = json.loads(
                _kawal(up.home, "case", "trail", case["case_id"], "--json").stdout
            )
            if any(entry["event_type"] == "SanctionImposed" for entry in trail["entries"]):
                return trail
    return None


def _rows(database: Path, query: str) -> list[tuple[Any, ...]]:
    """``query``'s rows; none while the file does not exist."""
    if not database.exists():
        return []
    with sqlite3.connect(database) as connection:
        return list(connection.execute(query))


def _hub_recommendations(up: UpProcess) -> dict[str, int]:
    """How many RecommendationIssued entries the audit store holds, by case."""
    query = "SELECT case_id, count(*) FROM audit_entries WHERE event_type = 'RecommendationIssued'"
    return dict(_rows(up.home / "audit.db", query + " GROUP BY case_id"))


def test_the_demo_authoritys_register_and_the_hub_agree_on_every_recommendation(
    demo_up: UpProcess,
) -> None:
    """The history's recommended cases are the register's: its staff never recommend again."""
    _wait_for_output(demo_up, "more demo cases for the dashboard")
    register = demo_up.home / "simulators" / "authority" / "authority.db"
    history = {case_id_for(c.reported_by, c.case_number) for c in history_cases(AUTHORITY)}
    delivered_query = (
        "SELECT DISTINCT case_id FROM hub_case_events WHERE event_type = 'RecommendationIssued'"
    )
    deadline = time.monotonic() + CONNECTOR_CASE_SECONDS
    while True:
        worked = {
            case_id
            for case_id, status in _rows(register, "SELECT hub_case_id, status FROM cases")
            if status != "REGISTERED"
        }
        delivered = {case_id for (case_id,) in _rows(register, delivered_query)}
        recorded = _hub_recommendations(demo_up)
        # Every history case is in the register as recommended on, and authority-status has
        # delivered its recommendation (the race is over); the staff recommended on a case the
        # history left to them; the hub holds one recommendation of each case worked on.
        if (
            history <= worked
            and history <= delivered
            and worked - history
            and all(recorded.get(case_id) == 1 for case_id in worked)
        ):
            break
        assert time.monotonic() < deadline, (sorted(history - worked), recorded)
        time.sleep(2)

    letters = kawal_here(
        {"KAWAL_HOME": str(demo_up.home), "KAWAL_EMBEDDED_BROKER_PORT": str(demo_up.broker_port)},
        *("dlq", "list", "--source-topic", inbound_topic(AUTHORITY), "--json"),
    )
    assert json.loads(letters.stdout) == [], letters.stdout


def test_status_of_the_demo_asks_its_connectors_too(demo_up: UpProcess) -> None:
    _wait_for_output(demo_up, "published")
    deadline = time.monotonic() + 60
    while True:
        done = _kawal(demo_up.home, "status", "--json")
        checks = {check["name"]: check for check in json.loads(done.stdout)["checks"]}
        if checks.get("connectors", {}).get("state") == "OK" or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert checks["connectors"]["state"] == "OK", checks
    assert checks["connectors"]["reason"].startswith("ready at http://127.0.0.1:")


def test_unknown_case_exits_3(demo_up: UpProcess) -> None:
    result = _kawal(demo_up.home, "case", "trail", "00000000-0000-0000-0000-000000000000")

    assert result.returncode == 3
    assert "no case" in result.stderr


def test_second_up_on_same_home_fails_at_once(demo_up: UpProcess) -> None:
    env = up_env(demo_up.home, free_port(), free_port(), free_storage_base_port())
    result = _second_up(demo_up, env)

    assert result.returncode == 1
    assert "already running" in result.stderr
    assert "KAWAL_HOME" in result.stderr
    # Refused before anything started: no hub announced, none stopped.
    assert result.stdout == ""
    assert "kawal: stopped" not in result.stderr


def test_second_up_on_same_web_port_fails_at_once(demo_up: UpProcess, tmp_path: Path) -> None:
    env = up_env(tmp_path / "other", demo_up.web_port, free_port(), free_storage_base_port())
    result = _second_up(demo_up, env)

    assert result.returncode == 1
    assert "KAWAL_WEB_PORT" in result.stderr


def test_demo_on_a_taken_connector_metrics_port_fails_at_once(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        env = up_env(tmp_path / "home", free_port(), free_port(), free_storage_base_port())
        env["KAWAL_CONNECTOR_METRICS_PORT"] = str(holder.getsockname()[1])
        result = kawal_here(env, "up", "--ephemeral", "--demo")

    assert result.returncode == 1
    assert "KAWAL_CONNECTOR_METRICS_PORT" in result.stderr
    assert not (tmp_path / "home" / "logs" / "tansu.log").exists()  # nothing was started


def test_sigterm_stops_everything(demo_up: UpProcess) -> None:
    _wait_for_output(demo_up, "published demo cases")
    children = demo_up.children()
    assert len(children) >= 3  # broker, worker and sink (ephemeral: no storage)

    started = time.monotonic()
    demo_up.process.send_signal(signal.SIGTERM)
    code = stop_code(demo_up, children, started)

    assert code == 0, f"exit {code} {time.monotonic() - started:.0f} s after the signal"


def test_an_ephemeral_demo_announces_no_portal_it_does_not_run(demo_up: UpProcess) -> None:
    _wait_for_output(demo_up, "published demo cases")
    announced = next(
        json.loads(line.removeprefix("kawal: hub is up "))
        for line in demo_up.text().splitlines()
        if line.startswith("kawal: hub is up ")
    )

    assert "dashboard" in announced
    assert "portal" not in announced  # the portal runs only on the embedded S3 storage


#: How long the demo's offices take to show every outcome: Bawaslu records a report every
#: 45 s, cycling through the outcomes, and waits at most 3 minutes before each step.
OUTCOMES_SECONDS = 600.0


def _history_case_ids() -> set[str]:
    """The cases the demo publishes as history (story and mix), not its offices' live ones."""
    return {
        record["envelope"]["case_id"]
        for wave in [*demo_waves(), *mix_waves()]
        for _, record in wave
    }


def _live_trails(up: UpProcess) -> dict[str, list[dict[str, Any]]]:
    """The entries of every case the demo's simulated offices made while it ran, by case."""
    history = _history_case_ids()
    listing = json.loads(_kawal(up.home, "case", "list", "--json").stdout)
    return {
        case["case_id"]: json.loads(
            _kawal(up.home, "case", "trail", case["case_id"], "--json").stdout
        )["entries"]
        for case in listing
        if case["case_id"] not in history
    }


def _outcome(entries: list[dict[str, Any]]) -> str | None:
    types = [entry["event_type"] for entry in entries]
    if "ReportRejected" in types:
        return "not_registered"
    if "SanctionImposed" in types:
        return "sanctioned"
    verdicts = [
        e["fields"].get("verdict") for e in entries if e["event_type"] == "VerificationCompleted"
    ]
    return "not_proven" if "NOT_PROVEN" in verdicts else None


@pytest.mark.battery
@pytest.mark.timeout(OUTCOMES_SECONDS + 300)
def test_the_demos_live_cases_are_dated_now_and_reach_every_outcome(demo_up: UpProcess) -> None:
    """New reports carry today's dates (none overdue on arrival); every outcome comes up.

    A battery: the offices' paced steps take up to ten minutes. ``make test`` has the
    simulators' own tests of dates and paces (test_inspektorat, test_demo_pace).
    """
    _wait_for_output(demo_up, "more demo cases for the dashboard")
    started = datetime.now(UTC) - timedelta(minutes=30)
    deadline = time.monotonic() + OUTCOMES_SECONDS
    while True:
        live = _live_trails(demo_up)
        outcomes = {_outcome(entries) for entries in live.values()}
        if {"not_registered", "not_proven", "sanctioned"} <= outcomes:
            break
        assert time.monotonic() < deadline, (outcomes, len(live))
        time.sleep(10)
    overdue = json.loads(_kawal(demo_up.home, "case", "overdue", "--json").stdout)["overdue"]

    reports = [
        e for entries in live.values() for e in entries if e["event_type"] == "ReportReceived"
    ]
    assert reports
    sources = {report["envelope"]["source"] for report in reports}
    assert {"bawaslu.33", "inspektorat.3374"} <= sources
    for report in reports:
        assert datetime.fromisoformat(report["envelope"]["event_time"]) >= started, report
    # Only the history's cases are overdue: a live one would need days of the demo.
    assert {clock["case_id"] for clock in overdue} <= _history_case_ids()
    assert overdue  # the history's breaches show the overdue path
