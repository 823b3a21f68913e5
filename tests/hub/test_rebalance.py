"""Two workers and the sink on the embedded broker: a rebalance loses and duplicates nothing.

While an institution publishes, a second worker joins the group, the first is killed (SIGKILL)
and started again: the partitions move to the second worker and back, the case table is
recovered from its changelog on each move, and still every acknowledged event is in the trail
exactly once and every chain verifies (:mod:`tests.rebalance_run`; `make battery` runs it
longer).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.local.embedded import EmbeddedBroker
from tests.postgres import PostgresServer
from tests.rebalance_run import rebalance_run

#: A guard against a hang only: the run starts four hub processes, and each took over a minute
#: to import before its first log line with the two cores shared by a dozen busy processes.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

CASES = 400  # four events each: 1,600 events
#: Events a second, so that publishing spans the join, the kill and the restart.
RATE = 40.0


def test_a_second_worker_a_kill_and_a_restart_lose_and_duplicate_nothing(
    own_broker: EmbeddedBroker, postgres: PostgresServer, tmp_path: Path
) -> None:
    outcome = rebalance_run(own_broker, postgres, tmp_path, CASES, RATE, 240.0)

    assert outcome.tally.accepted == CASES * 4
    assert outcome.tally.clean, outcome.tally
    # The second worker took half the partitions, then all of them, then gave half back.
    assert outcome.moves >= 3, outcome.moves
