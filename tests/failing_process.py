"""``kawal worker`` or ``kawal sink`` whose agent fails once, outside any record, at a batch.

A simulated defect for tests (``python tests/failing_process.py worker|sink``): the batch
numbered ``KAWAL_TEST_FAILING_BATCH`` (1-based) raises before it produces or stores anything,
as a broker or store failure the step does not catch would. Its message quotes a canary NIP,
as a third-party exception can quote the record it failed on: the log must not show it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.cli import main
from streams.hub.pipeline import Pipeline
from streams.hub.sink import AuditSink

#: Personal data in the failure's message, which no log line may carry.
CANARY = "NIP 199912312099121999"
#: The method each role calls once per batch.
BATCH_METHODS: dict[str, tuple[type, str]] = {
    "worker": (Pipeline, "process_batch"),
    "sink": (AuditSink, "write_batch"),
}


def fail_once(
    batch: Callable[..., Awaitable[Any]], failing_batch: int
) -> Callable[..., Awaitable[Any]]:
    """``batch``, except that its call numbered ``failing_batch`` raises."""
    calls = 0

    async def failing(self: object, messages: list[Any]) -> Any:
        nonlocal calls
        calls += 1
        if calls == failing_batch:
            raise RuntimeError(f"simulated failure outside the step at {CANARY}")
        return await batch(self, messages)

    return failing


if __name__ == "__main__":
    role = sys.argv[1]
    owner, name = BATCH_METHODS[role]
    failing_batch = int(os.environ["KAWAL_TEST_FAILING_BATCH"])
    setattr(owner, name, fail_once(getattr(owner, name), failing_batch))
    sys.exit(main([role]))
