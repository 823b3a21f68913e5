"""A frozen broker (tansu stopped with SIGSTOP: its connections open, nothing answered) makes
the worker's and the sink's ``/readyz`` 503 ``broker: unreachable``, and its first answers
make them ready again. Liveness never changes: restarting the processes would not help.

The hub runs with a short ``KAWAL_BROKER_WAIT_SECONDS``: its processes are not ready after
twice that, as connectors, not after the default's 30 s."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from streams.broker.silence import UNANSWERED_SECONDS as DEFAULT_SILENCE
from streams.local.embedded import EmbeddedBroker
from tests.freezing import freeze, thaw
from tests.hubtools import RunningHub, http_get, metric_value, start_hub
from tests.web.openapi_spec import check_body

pytestmark = pytest.mark.slow

SILENCE = "kawal_broker_unanswered_seconds"
GRACE = "kawal_broker_unanswered_grace_seconds"
#: KAWAL_BROKER_WAIT_SECONDS of the hub, and the silence after which it is not ready.
WAIT = 4.0
UNANSWERED_SECONDS = 2 * WAIT
#: How long a change may take to show on a loaded machine, past the silence bound, in seconds.
ROOM = 180.0
#: Seconds between two looks at readiness: its checks run every 5 s.
POLL = 0.5


def _ready(base: str) -> tuple[int, dict[str, object]]:
    status, body = http_get(f"{base}/readyz")
    return status, json.loads(body)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


def _wait_ready(hub: RunningHub, base: str, want: int, deadline: float) -> dict[str, object]:
    while (answer := _ready(base))[0] != want:
        assert time.monotonic() < deadline, (
            f"{base}/readyz stayed {answer}; worker log:\n{_tail(hub.worker.log_path)}\n"
            f"sink log:\n{_tail(hub.sink.log_path)}"
        )
        time.sleep(POLL)
    return answer[1]


def test_readiness_says_the_broker_is_unreachable_while_it_is_frozen_and_recovers(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    hub = start_hub(
        own_broker.url, tmp_path / "home", hub_env={"KAWAL_BROKER_WAIT_SECONDS": str(WAIT)}
    )
    pid = own_broker.pid
    assert pid is not None
    try:
        for base in (hub.base_url, hub.sink_url):
            _wait_ready(hub, base, 200, time.monotonic() + ROOM)

        freeze(pid)
        try:
            deadline = time.monotonic() + UNANSWERED_SECONDS + ROOM
            for base in (hub.base_url, hub.sink_url):
                body = _wait_ready(hub, base, 503, deadline)
                assert (body["status"], body["broker"]) == ("degraded", "unreachable")
                assert isinstance(seconds := body["broker_unanswered_seconds"], int)
                assert UNANSWERED_SECONDS <= seconds < DEFAULT_SILENCE
                check_body("/readyz", 503, "application/json", body)
                assert http_get(f"{base}/livez")[0] == 200
                # What the alert compares: the silence with the grace the wait gives.
                assert metric_value(base, GRACE) == UNANSWERED_SECONDS
                assert metric_value(base, SILENCE) > UNANSWERED_SECONDS
        finally:
            thaw(pid)

        deadline = time.monotonic() + ROOM
        for base in (hub.base_url, hub.sink_url):
            assert _wait_ready(hub, base, 200, deadline)["status"] == "ok"
            assert metric_value(base, SILENCE) < UNANSWERED_SECONDS
    finally:
        hub.stop()
