"""Battery: 100,000 events with the worker killed three times and the sink once.

Prints events lost, duplicated and chains failing (all must be 0); `make battery` runs it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.crash_run import KILLED, crash_run

pytestmark = [pytest.mark.slow, pytest.mark.battery]

CASES = 25_000  # four events each: 100,000 events
KILLS_AT_ROWS = ((10_000, "worker"), (35_000, "worker"), (60_000, "worker"), (80_000, "sink"))
FINISH_SECONDS = 1_800.0


def test_100000_events_with_three_worker_kills_and_a_sink_kill(tmp_path: Path) -> None:
    outcome = crash_run(tmp_path, CASES, KILLS_AT_ROWS, FINISH_SECONDS)
    print("\n" + "\n".join(outcome.lines("kills.")))

    assert outcome.tally.accepted == CASES * 4
    assert outcome.tally.clean, outcome.tally
    assert outcome.restarts == Counter((command, KILLED) for _, command in KILLS_AT_ROWS)
