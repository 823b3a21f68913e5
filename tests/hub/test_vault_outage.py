"""A data-key vault that does not answer holds the batch, and says so in a metric and the log.

Its only trace was an error line per retry: ``/readyz`` stayed 200 and no alert saw it, so a
vault on a full disk stalled every new case until KawalPipelineStalled, ten minutes on.
``kawal_vault_up`` (KawalVaultUnavailable) follows it. The vault is real SQLite with its
table away, as a vault whose database refuses, and real PostgreSQL of its own frozen (its
processes stopped), as a vault whose database answers nothing: a query on a connection the
pool holds waits for ever, so a call unanswered within ``ANSWER_SECONDS`` counts as down.
The worker also checks the vault between batches, so an idle hub sees it stop as well.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from streams.hub.case_table import CaseBatch
from streams.hub.pipeline import Pipeline
from streams.hub.store_check import ANSWER_SECONDS
from streams.hub.vault_check import vault_check
from streams.vault.data_keys import DataKeyVault
from streams.vault.tables import CaseDataKey
from tests.hub.steptools import inbound_message, step_pipeline
from tests.hub.test_lost_data_keys import vault_of
from tests.hubtools import report
from tests.postgres import PostgresServer

WAIT_SECONDS = 60.0


def vault_up(step: Pipeline) -> float | None:
    return step.metrics.registry.get_sample_value("kawal_vault_up")


def test_a_vault_down_holds_the_batch_sets_the_gauge_and_says_when_it_is_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    step = step_pipeline(tmp_path)
    vault = vault_of(step)
    table = CaseDataKey.__tablename__
    new = report()
    messages = [inbound_message(step, "ReportReceived", new, 0)]
    seen: dict[str, float | None] = {"before": vault_up(step)}

    async def outage() -> set[str]:
        with vault.engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))
        keys = asyncio.ensure_future(step._batch_keys(messages, CaseBatch({})))
        async with asyncio.timeout(WAIT_SECONDS):
            while vault_up(step) != 0:
                await asyncio.sleep(0.05)
        seen["down"] = vault_up(step)
        assert not keys.done()  # the batch waits: nothing is refused for the vault
        with vault.engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {table}_away RENAME TO {table}"))
        async with asyncio.timeout(WAIT_SECONDS):
            return set(await keys)

    with caplog.at_level(logging.WARNING, "streams.hub.pipeline"):
        made = asyncio.run(outage())

    assert made == {new["envelope"]["case_id"]}
    assert (seen["before"], seen["down"], vault_up(step)) == (1, 0, 1)
    said = [r.getMessage() for r in caplog.records]
    assert "data-key vault unavailable (" in said[0]
    assert "docs/operations.md#kawalvaultunavailable" in said[0]
    assert said[-1].startswith("the data-key vault answers again, after ")


def test_a_frozen_vault_of_its_own_sets_the_gauge_and_the_batch_goes_on_when_it_thaws(
    tmp_path: Path, postgres: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = postgres.create_database("frozen_vault")
    step = step_pipeline(tmp_path)
    vault = DataKeyVault(url, vault_of(step).ring)
    vault.create_schema()  # its connection stays in the pool
    step = replace(step, case_keys=vault)
    new = report()
    messages = [inbound_message(step, "ReportReceived", new, 0)]
    seen: dict[str, float | None] = {"before": vault_up(step)}

    async def outage() -> set[str]:
        with postgres.frozen():
            keys = asyncio.ensure_future(step._batch_keys(messages, CaseBatch({})))
            async with asyncio.timeout(3 * ANSWER_SECONDS):
                while vault_up(step) != 0:
                    await asyncio.sleep(0.05)
            seen["down"] = vault_up(step)
            assert not keys.done()  # the batch waits: nothing is refused for the vault
        async with asyncio.timeout(WAIT_SECONDS):
            return set(await keys)

    try:
        with caplog.at_level(logging.WARNING, "streams.hub.pipeline"):
            made = asyncio.run(outage())
    finally:
        vault.close()

    assert made == {new["envelope"]["case_id"]}
    assert (seen["before"], seen["down"], vault_up(step)) == (1, 0, 1)
    said = [r.getMessage() for r in caplog.records]
    assert "no answer within 10 s" in said[0]
    assert said[-1].startswith("the data-key vault answers again")


def test_an_idle_hub_sees_its_frozen_vault_down_and_up_again_without_any_batch(
    tmp_path: Path, postgres: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    # The vault was asked only for a batch's keys: frozen while no event came, it kept
    # kawal_vault_up at 1 and the log silent until the next event.
    url = postgres.create_database("idle_vault")
    step = step_pipeline(tmp_path)
    vault = DataKeyVault(url, vault_of(step).ring)
    vault.create_schema()  # its connection stays in the pool
    check = vault_check(vault.answers, step.metrics, answer_seconds=2)
    seen: dict[str, float | None] = {}

    async def until(up: float) -> None:
        async with asyncio.timeout(WAIT_SECONDS):
            while vault_up(step) != up:
                await asyncio.sleep(0.05)

    async def outage() -> None:
        async def timer() -> None:  # as the worker's timer, every CHECK_SECONDS
            while True:
                await check.check()
                await asyncio.sleep(0.5)

        checks = asyncio.ensure_future(timer())
        try:
            await asyncio.sleep(1)
            seen["before"] = vault_up(step)
            with postgres.frozen():
                await until(0)
                seen["down"] = vault_up(step)
            await until(1)
        finally:
            checks.cancel()

    try:
        with caplog.at_level(logging.WARNING, "streams.hub.vault_check"):
            asyncio.run(outage())
    finally:
        vault.close()

    assert (seen["before"], seen["down"], vault_up(step)) == (1, 0, 1)
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 2, said  # once when it stops, once when it answers again
    assert said[0].startswith("the data-key vault does not answer (no answer within 2 s")
    assert "docs/operations.md#kawalvaultunavailable" in said[0]
    assert said[1] == "the data-key vault answers again"
