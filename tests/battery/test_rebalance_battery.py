"""Battery: 20,000 events at 400 a second through a join, a kill and a restart of a worker.

Prints events lost, duplicated, chains failing (all must be 0) and the throughput of the run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.local.embedded import EmbeddedBroker
from tests.postgres import PostgresServer
from tests.rebalance_run import rebalance_run

pytestmark = [pytest.mark.slow, pytest.mark.battery]

CASES = 5_000


def test_a_rebalance_under_20000_events(
    own_broker: EmbeddedBroker, postgres: PostgresServer, tmp_path: Path
) -> None:
    outcome = rebalance_run(own_broker, postgres, tmp_path, CASES, 400.0, 1_200.0)
    print("\n" + "\n".join(outcome.lines("rebalance.")))

    assert outcome.tally.accepted == CASES * 4
    assert outcome.tally.clean, outcome.tally
    assert outcome.moves >= 3
