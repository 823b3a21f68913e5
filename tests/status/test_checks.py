"""Each check of ``kawal status`` against a real HTTP server answering as the hub's processes do."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from streams.status import checks
from streams.status.alert_checks import alerts_check
from streams.status.checks import Check, State
from streams.status.metric_checks import metric_checks
from streams.status.process_checks import process_check
from streams.status.sink_checks import sink_checks

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_800_000_000.0


class Served:
    """What the server answers, by path: status and body."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, str]] = {}


@pytest.fixture
def served() -> Iterator[tuple[Served, str]]:
    state = Served()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = state.answers.get(self.path, (404, ""))
            self.send_response(status)
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _ready(state: Served, live: int, ready: int, body: dict[str, object]) -> None:
    state.answers = {
        "/livez": (live, json.dumps({"status": "alive"})),
        "/readyz": (ready, json.dumps(body)),
    }


@pytest.mark.parametrize(
    ("live", "ready", "body", "expected"),
    [
        (200, 200, {"status": "ok", "audit_entries": 3}, (State.OK, "ready at", "")),
        (500, 200, {}, (State.DOWN, "/livez answers 500 (crashed)", "#kawalprocessdown")),
        (200, 503, {"status": "starting"}, (State.DEGRADED, "starting", "#kawalprocessdown")),
        (
            200,
            503,
            {"status": "degraded", "broker": "unreachable", "broker_unanswered_seconds": 40},
            (State.DEGRADED, "not ready: broker unreachable", "#kawalbrokerunanswered"),
        ),
        (
            200,
            503,
            {"status": "degraded", "audit_store": "refusing_writes"},
            (
                State.DEGRADED,
                "not ready: audit_store refusing_writes",
                "#kawalauditstoreunreachable",
            ),
        ),
        (
            200,
            503,
            {"status": "degraded", "hub_signing_key": "invalid", "detail": "..."},
            (State.DEGRADED, "not ready: hub_signing_key invalid", "#kawalhubsigningkeyinvalid"),
        ),
    ],
)
def test_a_process_is_judged_by_its_livez_and_readyz(
    served: tuple[Served, str],
    live: int,
    ready: int,
    body: dict[str, object],
    expected: tuple[State, str, str],
) -> None:
    state, url = served
    _ready(state, live, ready, body)
    found = process_check("sink", url)
    assert (found.name, found.state) == ("sink", expected[0])
    assert found.reason.startswith(expected[1]), found
    assert found.runbook.endswith(expected[2]) if expected[2] else found.runbook == ""


def test_a_connector_that_does_not_answer_points_to_the_connectors_runbook() -> None:
    found = process_check("connectors", "http://127.0.0.1:9", connector=True)
    assert found.state is State.DOWN
    assert found.reason == (
        "does not answer at http://127.0.0.1:9 (connection refused): connectors is not running "
        "there; start it, or set the port it serves on"
    )
    assert found.runbook == "docs/operations.md#kawalconnectordown"


def _metrics(state: Served, text: str) -> None:
    state.answers = {"/metrics": (200, text)}


METRICS = """\
# TYPE kawal_hub_signing_key_valid gauge
kawal_hub_signing_key_valid {key}
# TYPE kawal_consumer_lag_read_timestamp_seconds gauge
kawal_consumer_lag_read_timestamp_seconds {read_at}
# TYPE kawal_timer_interval_seconds gauge
kawal_timer_interval_seconds{{timer="consumer_lag"}} 15.0
# TYPE kawal_consumer_lag_records gauge
kawal_consumer_lag_records{{group="kawal",topic="kawal.inbound"}} {lag}
kawal_consumer_lag_records{{group="kawal-audit-sink",topic="kawal.case.audit"}} 2.0
"""


def _by_name(found: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in found}


def test_a_valid_key_and_little_lag_are_ok(served: tuple[Served, str]) -> None:
    state, url = served
    _metrics(state, METRICS.format(key=1, read_at=NOW - 10, lag=5))
    found = _by_name(metric_checks(url, clock=lambda: NOW))
    assert [(c.state, c.reason) for c in found.values()] == [
        (State.OK, "valid"),
        (State.OK, "7 records behind in all"),
    ]


def test_an_invalid_hub_key_is_down(served: tuple[Served, str]) -> None:
    state, url = served
    _metrics(state, METRICS.format(key=0, read_at=NOW - 10, lag=5))
    key = _by_name(metric_checks(url, clock=lambda: NOW))["hub_key"]
    assert key.state is State.DOWN
    assert key.runbook == "docs/operations.md#kawalhubsigningkeyinvalid"


def test_lag_over_a_thousand_records_is_degraded_naming_the_group(
    served: tuple[Served, str],
) -> None:
    state, url = served
    _metrics(state, METRICS.format(key=1, read_at=NOW - 10, lag=2500))
    lag = _by_name(metric_checks(url, clock=lambda: NOW))["lag"]
    assert (lag.state, lag.reason) == (State.DEGRADED, "records behind over 1000: kawal 2500")
    assert lag.runbook == "docs/operations.md#kawalconsumerlaggrowing"


def test_lag_not_read_for_eight_readings_is_unknown(served: tuple[Served, str]) -> None:
    state, url = served
    _metrics(state, METRICS.format(key=1, read_at=NOW - 130, lag=0))
    lag = _by_name(metric_checks(url, clock=lambda: NOW))["lag"]
    assert (lag.state, lag.reason) == (
        State.DEGRADED,
        "unknown: not read from the broker for 130 s",
    )
    assert lag.runbook == "docs/operations.md#kawallagunknown"
    # Never read yet (0): a worker just started, not a silent one.
    _metrics(state, METRICS.format(key=1, read_at=0, lag=0))
    assert _by_name(metric_checks(url, clock=lambda: NOW))["lag"].state is State.OK


def test_a_silent_worker_leaves_key_and_lag_unknown() -> None:
    found = metric_checks("http://127.0.0.1:9")
    assert [(c.name, c.state) for c in found] == [
        ("hub_key", State.DEGRADED),
        ("lag", State.DEGRADED),
    ]
    assert found[0].reason == "unknown: the worker's /metrics does not answer (connection refused)"


SINK_METRICS = """\
# TYPE kawal_audit_store_up gauge
kawal_audit_store_up {store_up}
# TYPE kawal_audit_store_write_failures counter
kawal_audit_store_write_failures_total {failures}
# TYPE kawal_audit_last_stored_timestamp_seconds gauge
kawal_audit_last_stored_timestamp_seconds {last}
# TYPE process_start_time_seconds gauge
process_start_time_seconds {started}
# TYPE kawal_rejections counter
kawal_rejections_total{{stage="sink",reason="bad_magic"}} {bad_magic}
kawal_rejections_total{{stage="sink",reason="unknown_schema"}} 0.0
# TYPE kawal_consumer_lag_records gauge
kawal_consumer_lag_records{{group="kawal",topic="kawal.inbound"}} 9000.0
kawal_consumer_lag_records{{group="kawal-audit-sink",topic="kawal.case.audit"}} {lag}
"""
#: A sink that started ten minutes ago, stored a minute ago, with nothing wrong.
WELL = {"store_up": 1, "failures": 0, "last": NOW - 60, "started": NOW - 600, "bad_magic": 0}


def _sink(state: Served, url: str, lag: float = 0, **changed: float) -> dict[str, Check]:
    """The sink checks of a sink (and worker) serving :data:`SINK_METRICS` at ``url``."""
    _metrics(state, SINK_METRICS.format(**(WELL | changed), lag=lag))
    return _by_name(sink_checks(url, url, clock=lambda: NOW))


def test_a_working_sink_is_ok_saying_what_waits_and_when_it_last_stored(
    served: tuple[Served, str],
) -> None:
    state, url = served
    found = _sink(state, url, lag=3)
    assert [(c.name, c.state, c.reason) for c in found.values()] == [
        (
            "sink_store",
            State.OK,
            "takes the sink's writes (0 failed transactions since it started)",
        ),
        ("sink_lag", State.OK, "3 entries wait on kawal.case.audit; last entry stored 60 s ago"),
        ("sink_dead_letters", State.OK, "none since it started"),
    ]
    # The worker's own group is not the sink's: its 9000 records are the lag check's.
    started = _sink(state, url, last=0)["sink_lag"]
    assert started.reason == "0 entries wait on kawal.case.audit; none stored since it started"
    # A worker that has not read lag yet (just started) leaves it unread, not wrong.
    _metrics(state, SINK_METRICS.format(**WELL, lag=0).replace("kawal-audit-sink", "other"))
    unread = _by_name(sink_checks(url, url, clock=lambda: NOW))["sink_lag"]
    assert (unread.state, unread.reason) == (
        State.OK,
        "not read yet by the worker; last entry stored 60 s ago",
    )


def test_a_sink_whose_store_refuses_its_writes_is_down(served: tuple[Served, str]) -> None:
    state, url = served
    store = _sink(state, url, store_up=0, failures=7)["sink_store"]
    assert (store.state, store.runbook) == (
        State.DOWN,
        "docs/operations.md#kawalauditstoreunreachable",
    )
    assert store.reason.startswith("the audit store does not take the sink's writes (7 failed")


@pytest.mark.parametrize(
    ("lag", "last", "expected", "runbook"),
    [
        (5, NOW - 301, State.DOWN, "#kawalsinkstalled"),
        (5, 0, State.DOWN, "#kawalsinkstalled"),  # stored none in its 600 s
        (0, NOW - 3000, State.OK, ""),  # nothing to store: quiet, not stalled
        (1500, NOW - 10, State.DEGRADED, "#kawalconsumerlaggrowing"),
    ],
)
def test_entries_waiting_with_none_stored_for_five_minutes_is_a_stalled_sink(
    served: tuple[Served, str], lag: float, last: float, expected: State, runbook: str
) -> None:
    state, url = served
    found = _sink(state, url, lag=lag, last=last)["sink_lag"]
    assert found.state is expected, found
    assert found.runbook.endswith(runbook) if runbook else found.runbook == ""
    if expected is State.DOWN:
        assert found.reason.startswith(f"stalled: {lag} entries wait on kawal.case.audit")


def test_a_sink_just_started_is_not_stalled_before_five_minutes(
    served: tuple[Served, str],
) -> None:
    state, url = served
    found = _sink(state, url, lag=40, last=0, started=NOW - 30)["sink_lag"]
    assert found.state is State.OK, found


def test_records_the_sink_dead_lettered_make_it_degraded_by_reason(
    served: tuple[Served, str],
) -> None:
    state, url = served
    letters = _sink(state, url, bad_magic=2)["sink_dead_letters"]
    assert (letters.state, letters.runbook) == (
        State.DEGRADED,
        "docs/operations.md#kawaldeadletterburst",
    )
    assert letters.reason.startswith(
        "2 trail records it could not decode or the hub did not make went to kawal.dlq"
    )
    assert "(bad_magic 2)" in letters.reason


def test_a_silent_sink_leaves_its_checks_unknown_and_an_unread_lag_is_said(
    served: tuple[Served, str],
) -> None:
    found = sink_checks("http://127.0.0.1:9", "http://127.0.0.1:9")
    assert [(c.name, c.state) for c in found] == [
        ("sink_store", State.DEGRADED),
        ("sink_lag", State.DEGRADED),
        ("sink_dead_letters", State.DEGRADED),
    ]
    assert found[0].reason == "unknown: the sink's /metrics does not answer (connection refused)"
    state, url = served
    _metrics(state, SINK_METRICS.format(**WELL, lag=0))
    lag = _by_name(sink_checks(url, "http://127.0.0.1:9", clock=lambda: NOW))["sink_lag"]
    assert lag.state is State.DEGRADED
    assert lag.reason.startswith("unknown (the worker's /metrics does not answer (connection")
    assert lag.runbook == "docs/operations.md#kawallagunknown"


def _alerts(state: Served, *alerts: tuple[str, str, str]) -> None:
    listed = [
        {"labels": {"alertname": name, "severity": severity}, "state": phase}
        for name, severity, phase in alerts
    ]
    body = json.dumps({"status": "success", "data": {"alerts": listed}})
    state.answers = {"/api/v1/alerts": (200, body)}


def test_firing_alerts_make_the_hub_degraded_or_down_with_the_first_runbook(
    served: tuple[Served, str],
) -> None:
    state, url = served
    _alerts(state, ("KawalSinkStalled", "page", "pending"))
    assert alerts_check(url).state is State.OK
    # The watchdog always fires while the alert path works: that is no fault.
    _alerts(state, ("KawalWatchdog", "heartbeat", "firing"))
    assert alerts_check(url).state is State.OK
    _alerts(state, ("KawalLagUnknown", "ticket", "firing"))
    ticket = alerts_check(url)
    assert (ticket.state, ticket.reason) == (State.DEGRADED, "firing: KawalLagUnknown (ticket)")
    assert ticket.runbook == "docs/operations.md#kawallagunknown"
    _alerts(
        state,
        ("KawalLagUnknown", "ticket", "firing"),
        ("KawalProcessDown", "page", "firing"),
        ("KawalWatchdog", "heartbeat", "firing"),
    )
    page = alerts_check(url)
    assert page.state is State.DOWN
    assert page.reason == "firing: KawalProcessDown (page), KawalLagUnknown (ticket)"
    assert page.runbook == "docs/operations.md#kawalprocessdown"


def test_a_prometheus_that_does_not_answer_is_said() -> None:
    found = alerts_check("http://127.0.0.1:9")
    assert found.state is State.DEGRADED
    assert found.reason.startswith("Prometheus does not answer at http://127.0.0.1:9")


def _anchors(markdown: str) -> set[str]:
    """GitHub's anchors of the headings of ``markdown``."""
    headings = re.findall(r"^#+ (.+)$", markdown, re.MULTILINE)
    return {
        re.sub(r"[^\w\- ]", "", heading).strip().lower().replace(" ", "-") for heading in headings
    }


def test_every_runbook_a_check_points_to_is_a_section_of_the_operations_page() -> None:
    anchors = _anchors((ROOT / "docs/operations.md").read_text(encoding="utf-8"))
    runbooks = [value for name, value in vars(checks).items() if name.startswith("RUNBOOK_")]
    assert len(runbooks) == 12
    for runbook in runbooks:
        page, _, anchor = runbook.partition("#")
        assert page == "docs/operations.md"
        assert anchor in anchors, runbook


def test_the_json_report_keys_are_documented() -> None:
    page = (ROOT / "docs/operations.md").read_text(encoding="utf-8")
    section = page.split("## Check the hub (`kawal status`)")[1].split("\n## ")[0]
    for key in (
        "state",
        "exit_code",
        "home",
        "source",
        "processes",
        "checks",
        "name",
        "reason",
        "runbook",
    ):
        assert f'"{key}"' in section, key
    for state in ("`OK`", "`DEGRADED`", "`DOWN`", "`NOT_RUNNING`"):
        assert state in section
