"""Kill -9 the worker three times, then the audit sink, during a 4,000-event run: nothing
lost, nothing duplicated.

`kawal up` supervises both and restarts each after its kill; the broker keeps running. The
events are published while the kills happen, and each kill hits an instance that serves, so
every kill lands mid-stream and is answered by a restart of its own (:mod:`tests.crash_run`;
`make battery` runs the same with 100,000 events).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.crash_run import KILLED, crash_run

pytestmark = pytest.mark.slow

CASES = 1_000  # four events each: 4,000 events
#: Rows in the audit store at which a process is killed: the worker three times, then the sink.
#: Each restarted worker applies hundreds of events before the next kill, and the last kill
#: leaves more than a thousand to go (the test checks that every kill came before the end).
KILLS_AT_ROWS = ((400, "worker"), (1_250, "worker"), (2_100, "worker"), (2_800, "sink"))
FINISH_SECONDS = 400.0


def test_three_worker_kills_and_a_sink_kill_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    outcome = crash_run(tmp_path, CASES, KILLS_AT_ROWS, FINISH_SECONDS)

    assert outcome.tally.accepted == CASES * 4
    assert max(outcome.rows_at_kills) < outcome.tally.accepted, outcome.rows_at_kills
    assert outcome.tally.clean, outcome.tally
    assert outcome.cases == CASES
    # Each kill is answered by a restart of the process it hit, after its SIGKILL.
    assert outcome.restarts == Counter((command, KILLED) for _, command in KILLS_AT_ROWS)
    assert outcome.restart_lines == len(KILLS_AT_ROWS)
