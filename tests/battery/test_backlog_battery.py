"""Battery: a 50,000-event backlog on one inbound topic while another institution publishes.

Prints how long the backlog took to drain and how long the other institution waited for its
acceptance receipts meanwhile (the goal: within 1 s).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import backlog
from bench.__main__ import report, running_hub
from tests.hubtools import default_codec

pytestmark = [pytest.mark.slow, pytest.mark.battery]


def test_a_backlog_drains_while_another_institution_is_served(tmp_path: Path) -> None:
    with running_hub(default_codec(), tmp_path) as (publisher, store, bootstrap, _):
        run = backlog.run(publisher, store, bootstrap, lambda source, n: report(n, source))
    print("\n" + "\n".join(run.lines()))

    assert run.events == backlog.BACKLOG
    assert run.receipt_ms, "no probe was answered"
