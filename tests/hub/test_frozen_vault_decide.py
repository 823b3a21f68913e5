"""Deciding a record never waits on a frozen data-key vault on the worker's event loop.

The vault on PostgreSQL of its own, frozen (its processes stopped). A case whose key the
vault lost (restored from an older backup) is absent from its batch's keys: each of its
records then asked the vault again, on the event loop and without a deadline, so a vault
frozen meanwhile stopped the whole worker (agents, timers, ``/health``) until it thawed. The
batch's answer is final now: the record is refused as ``data_key_missing`` without asking
again. A record decided outside a batch (tools, tests) asks within the vault's deadline.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from streams.hub.case_table import CaseBatch
from streams.hub.pipeline import Outgoing, Pipeline
from streams.topics import DLQ
from streams.vault.data_keys import DataKeyVault, VaultError
from tests.hub.steptools import inbound_message, step_pipeline
from tests.hub.test_lost_data_keys import decoded, lose_key, opened_case, vault_of
from tests.hubtools import verification
from tests.postgres import PostgresServer

#: Longest wait for a decision on a loaded machine (the vault's deadline is 10 s), in seconds.
WAIT_SECONDS = 60.0


def frozen_vault_step(tmp_path: Path, postgres: PostgresServer, name: str) -> Pipeline:
    """A pipeline whose vault is a PostgreSQL database of ``postgres``."""
    step = step_pipeline(tmp_path)
    vault = DataKeyVault(postgres.create_database(name), vault_of(step).ring)
    vault.create_schema()  # its connection stays in the pool
    return replace(step, case_keys=vault)


def decided_in_time(decide: Callable[[], object]) -> tuple[bool, list[object]]:
    """Run ``decide`` on a thread of its own; whether it ended in time, and what it gave."""
    given: list[object] = []

    def run() -> None:
        try:
            given.append(decide())
        except Exception as exc:
            given.append(exc)

    deciding = threading.Thread(target=run, daemon=True)
    deciding.start()
    deciding.join(WAIT_SECONDS)
    return not deciding.is_alive(), given


def test_a_record_of_a_case_its_batch_found_no_key_for_is_refused_without_the_vault(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    step = frozen_vault_step(tmp_path, postgres, "decide_lost_key")
    cases = CaseBatch({})
    case_id = opened_case(step, cases)
    vault = vault_of(step)
    lose_key(vault, case_id)
    later = inbound_message(step, "VerificationCompleted", verification(case_id), 2)
    keys = asyncio.run(step._batch_keys([later], cases))
    try:
        with postgres.frozen():
            ended, given = decided_in_time(lambda: step.decide(cases, later, keys))
    finally:
        vault.close()

    assert keys == {}
    assert ended, "the record waited on the frozen vault"
    [produced] = given
    assert isinstance(produced, list)
    outgoing: list[Outgoing] = produced
    [letter] = decoded(step, outgoing, DLQ)
    assert letter["reason_code"] == "data_key_missing"


def test_a_record_decided_outside_a_batch_gives_up_on_a_frozen_vault(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    step = frozen_vault_step(tmp_path, postgres, "decide_outside_batch")
    cases = CaseBatch({})
    case_id = opened_case(step, cases)
    later = inbound_message(step, "VerificationCompleted", verification(case_id), 2)
    vault_of(step)._cache.evict(case_id)  # the vault is asked, as after a restart
    try:
        with postgres.frozen():
            ended, given = decided_in_time(lambda: step.decide(cases, later))
        after = step.decide(cases, later)
    finally:
        vault_of(step).close()

    assert ended, "the record waited on the frozen vault"
    [refused] = given
    assert isinstance(refused, VaultError)
    assert "gave no answer within 10 s" in str(refused)
    assert DLQ not in {topic for topic, *_ in after}
