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
    assert found.reason == "does not answer at http://127.0.0.1:9 (connection refused)"
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
    assert len(runbooks) == 10
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
