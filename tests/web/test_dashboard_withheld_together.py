"""Withheld cells that hold fewer than K cases together are not given back by subtraction.

On a hub of its own, two elections of one sanctioned case each beside one of four: the totals
less the large election would be the two small ones together, 2 cases, each proven and
sanctioned. Read over HTTP from the real hub, as a reader without a credential would.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streams.audit.figures.command import stats_view
from streams.audit.suppression import withheld
from tests.brokers import start_ephemeral_broker
from tests.casemix import Mix
from tests.hubtools import RunningHub, start_hub
from tests.web.test_dashboard_http import get
from tests.web.test_dashboard_small_groups import COUNTS, K, sanctioned_case

SIZES = (1, 1, 4)


def figures(hub: RunningHub, query: str = "") -> dict[str, Any]:
    status, _, body = get(hub, f"/dashboard/figures.json?{query}")
    assert status == 200, body
    found: dict[str, Any] = json.loads(body)
    return found


@pytest.fixture(scope="module")
def elections(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHub, str]]:
    """A hub of three elections (sizes :data:`SIZES`), and the large one's id."""
    root = tmp_path_factory.mktemp("withheld_together")
    broker = start_ephemeral_broker(root / "broker")
    try:
        hub = start_hub(broker.url, Path(root / "home"))
        try:
            large = ""
            for size in SIZES:
                mix = Mix(election=f"pilkada-part-{uuid.uuid4().hex[:8]}")
                for _ in range(size):
                    sanctioned_case(hub, mix)
                large = mix.election
            deadline = time.monotonic() + 30
            while figures(hub)["counts"]["received"] != sum(SIZES):
                assert time.monotonic() < deadline, "the dashboard never showed every case"
                time.sleep(0.3)
            yield hub, large
        finally:
            hub.stop()
    finally:
        broker.stop()


def test_the_totals_less_the_large_election_give_no_small_group(
    elections: tuple[RunningHub, str],
) -> None:
    hub, large = elections
    every, shown = figures(hub), figures(hub, f"election={large}")

    for column in COUNTS:
        total, part = every["counts"][column], shown["counts"][column]
        if total is not None and part is not None:
            assert not 0 < total - part < K, (column, total, part)
    # The front page's table by election holds the same cases: it gives nothing back either.
    front = stats_view(hub.store, hub.codec, min_cases=K)
    for column, total in front["totals"].items():
        hidden = [row for row in front["by_election"] if column in withheld(row)]
        if total is not None and hidden:
            left = total - sum(row[column] for row in front["by_election"] if row not in hidden)
            assert not 0 < left < K, (column, front["by_election"])
