"""A restarted demo sends only what its earlier run had not: no ``duplicate_event`` letters."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from streams.local.demo import demo_waves
from streams.local.demo_progress import record_sent
from streams.local.demo_publisher import publish_demo
from streams.local.embedded import EmbeddedBroker
from streams.settings import Settings
from tests.hubtools import RunningHub, http_get, start_hub

pytestmark = pytest.mark.slow


@pytest.fixture
def demo_hub(own_broker: EmbeddedBroker, tmp_path: Path) -> Iterator[RunningHub]:
    """A hub of the test alone: the demo's event ids are fixed, another hub may hold them."""
    running = start_hub(own_broker.url, tmp_path / "home")
    try:
        yield running
    finally:
        running.stop()


def _duplicates(hub: RunningHub) -> float:
    """The events the hub refused as ``duplicate_event``, from its ``/metrics``."""
    status, body = http_get(f"{hub.base_url}/metrics")
    assert status == 200
    return sum(
        sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
        if sample.name == "kawal_rejections_total"
        and sample.labels.get("reason") == "duplicate_event"
    )


def _event_ids(waves: list[list[tuple[str, dict[str, Any]]]]) -> list[str]:
    return [record["envelope"]["event_id"] for wave in waves for _, record in wave]


def test_a_demo_restarted_after_an_interruption_sends_the_rest_and_nothing_twice(
    own_broker: EmbeddedBroker, demo_hub: RunningHub
) -> None:
    settings = Settings(home=demo_hub.home)
    waves = demo_waves()
    # The first run stopped after two waves were recorded and a third was sent, unrecorded.
    publish_demo(settings, own_broker.url, waves=waves[:2])
    for event_type, record in waves[2]:
        demo_hub.publisher.publish(event_type, record)
    demo_hub.publisher.flush()
    record_sent(demo_hub.home, _event_ids(waves[2:3]))

    publish_demo(settings, own_broker.url)  # the restart
    publish_demo(settings, own_broker.url)  # and one more, after a whole run

    held = demo_hub.store.held_event_ids(_event_ids(waves))
    assert held == set(_event_ids(waves))
    # A copy sent on purpose is refused: the count then shows every copy the demo sent.
    demo_hub.publish(*waves[0][0])
    deadline = time.monotonic() + 30
    while _duplicates(demo_hub) < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)  # a copy the demo sent late would be counted by now
    assert _duplicates(demo_hub) == 1
