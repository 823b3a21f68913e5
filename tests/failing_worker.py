"""``kawal worker`` whose pipeline fails once, outside any record's step, at a chosen batch.

A simulated defect for tests (``python tests/failing_worker.py``): the batch numbered
``KAWAL_TEST_FAILING_BATCH`` (1-based) raises before it produces anything, as a broker or
store failure the step does not catch would.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.cli import main
from streams.hub import pipeline
from streams.hub.outbox import Sent

FAILING_BATCH = int(os.environ["KAWAL_TEST_FAILING_BATCH"])
_unpatched = pipeline.Pipeline.process_batch
_batches = 0


async def _failing_once(self: pipeline.Pipeline, messages: list[Any]) -> Sent:
    global _batches
    _batches += 1
    if _batches == FAILING_BATCH:
        raise RuntimeError("simulated failure outside the step")
    return await _unpatched(self, messages)


pipeline.Pipeline.process_batch = _failing_once  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main(["worker"]))
