"""Faust's own sensor on request: its series join the worker's and the sink's /metrics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.local.embedded import EmbeddedBroker
from tests.hubtools import RunningHub, http_get, start_hub
from tests.monitoring.promtools import promtool

pytestmark = pytest.mark.slow


@pytest.fixture
def sensed_hub(
    own_broker: EmbeddedBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunningHub]:
    monkeypatch.setenv("KAWAL_FAUST_METRICS", "true")
    running = start_hub(own_broker.url, tmp_path / "hub")
    try:
        yield running
    finally:
        running.stop()


def test_faust_metrics_are_exported_when_asked_for(sensed_hub: RunningHub) -> None:
    sensed_hub.open_case()
    for url in (sensed_hub.base_url, sensed_hub.sink_url):
        status, body = http_get(f"{url}/metrics")
        assert status == 200
        text = body.decode()
        assert "faust_total_rebalances" in text
        assert "faust_messages_received_total" in text
        assert "kawal_events_total" in text
        # promtool's only complaint is Faust's own histogram, named in milliseconds upstream.
        checked = promtool("check", "metrics", stdin=body)
        complaints = {line.split()[0] for line in checked.stderr.splitlines() if line.strip()}
        assert complaints <= {"faust_events_runtime_ms", "faust_events_runtime_ms_created"}


def test_faust_metrics_stay_off_by_default(hub: RunningHub) -> None:
    status, body = http_get(f"{hub.base_url}/metrics")
    assert status == 200
    assert b"faust_" not in body
