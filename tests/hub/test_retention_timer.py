"""The retention timer on the worker's own objects, in process: its vault, table and pipeline.

What the timer sends on ``kawal.inbound.kawal`` is handed to the pipeline step as the next
record of that topic, so every erasure passes ingress, the ledger and the router as it would
on the broker.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from streams.domain.erasure import ERASURE_EVENT, erasure_event_id
from streams.domain.retention import RetentionRule, parse_rules
from streams.hub.pipeline import Outgoing
from streams.hub.retention_timer import CaseEraser, RetentionTimer
from streams.topics import CASE_AUDIT, DLQ, OUTBOUND_PREFIX
from streams.vault.answer_deadline import BoundedVault
from streams.vault.data_keys import DataKeyVault, Erased
from tests.disclosure_case import closed
from tests.hub.steptools import (
    HubInbound,
    StepWorker,
    inbound_message,
    raw_message,
    step_pipeline,
)
from tests.hubtools import registration, report, verification
from tests.postgres import PostgresServer

#: A period of no time after closing: the case is due at the first look after it closed.
AT_CLOSING = {
    "id": "at_closing",
    "after": "closed",
    "days": 0,
    "legal_source": "test rule",
    "why": "erase as soon as the case is closed",
}
#: Longest wait for a run on a loaded machine (the vault's deadline here is 2 s), in seconds.
WAIT_SECONDS = 60.0
#: What the report of every case here holds: none of it may reach a log.
PERSONAL = ("Test Subject", "Test Reporter", "198501012010011001", "Shared campaign material.")


class Worker(StepWorker):
    """The worker's step, its vault and the retention timer on its table."""

    def publish(self, event_type: str, record: dict[str, Any]) -> list[Outgoing]:
        produced = self.take(inbound_message(self.step, event_type, record, self.offset))
        assert DLQ not in {topic for topic, *_ in produced}, event_type
        return produced

    def deliver(self, key: bytes, value: bytes) -> list[Outgoing]:
        """A record the timer sent, read back from ``kawal.inbound.kawal``."""
        where = {"envelope": {"source": "kawal", "case_id": key.decode()}}
        return self.take(raw_message(self.step, where, value, self.offset))

    def vault(self) -> DataKeyVault:
        vault = self.step.case_keys
        assert isinstance(vault, DataKeyVault)
        return vault

    def timer(self, rules: tuple[RetentionRule, ...], inbound: HubInbound) -> RetentionTimer:
        return self.timer_on(self.vault(), rules, inbound)

    def timer_on(
        self, vault: CaseEraser, rules: tuple[RetentionRule, ...], inbound: HubInbound
    ) -> RetentionTimer:
        return RetentionTimer(
            table=self.table,
            rules=rules,
            vault=vault,
            catalog=self.step.rules.catalog,
            codec=self.step.codec,
            hub_key=self.step.hub_key,
            keys=self.step.rules.keys,
            hub_inbound=inbound,
            metrics=self.step.metrics,
        )


@pytest.fixture
def worker(tmp_path: Path) -> Worker:
    return Worker(step_pipeline(tmp_path))


@pytest.fixture
def at_closing() -> tuple[RetentionRule, ...]:
    return parse_rules({"rule": [AT_CLOSING]}, "test")


def opened(worker: Worker) -> str:
    first = report()
    case_id: str = first["envelope"]["case_id"]
    worker.publish("ReportReceived", first)
    worker.publish("ReportRegistered", registration(case_id))
    return case_id


def closed_case(worker: Worker) -> str:
    case_id = opened(worker)
    worker.publish("VerificationCompleted", verification(case_id, proven=False))
    worker.publish(*closed(case_id, reason="NOT_PROVEN"))
    return case_id


def test_a_closed_case_is_erased_once_its_period_ended_and_every_party_told(
    worker: Worker, at_closing: tuple[RetentionRule, ...], caplog: pytest.LogCaptureFixture
) -> None:
    erased, still_open = closed_case(worker), opened(worker)
    inbound = HubInbound()

    with caplog.at_level(logging.INFO, logger="streams.hub.retention_timer"):
        assert asyncio.run(worker.timer(at_closing, inbound).look()) == 1

    # The key first: destroyed before anything was published.
    tombstone = worker.vault().tombstone(erased)
    assert tombstone is not None
    assert "rule at_closing" in tombstone.reason
    assert isinstance(worker.vault().keys_for([still_open], create=False)[still_open], bytes)
    [(key, value)] = inbound.sent
    produced = worker.deliver(key, value)
    assert DLQ not in {topic for topic, *_ in produced}
    decoded = [(topic, worker.step.codec.decode(view)) for topic, _, view, _ in produced]
    entries = {t: d.record for t, d in decoded if d.full_name == "kawal.AuditEntry"}
    entry = entries[CASE_AUDIT]
    assert (entry["event_type"], entry["event_id"]) == (ERASURE_EVENT, erasure_event_id(erased))
    event = worker.step.codec.decode(entry["event"]).record
    assert (event["retention_rule"], event["reason"]) == ("at_closing", tombstone.reason)
    assert event["erased_at"] == tombstone.erased_at.replace(
        microsecond=tombstone.erased_at.microsecond // 1000 * 1000
    )
    told = {topic.removeprefix(OUTBOUND_PREFIX) for topic in entries if OUTBOUND_PREFIX in topic}
    assert told == {"bawaslu", "bawaslu.33", "bkn", "ppk.3374", "inspektorat.3374", "bpasn"}
    assert all(not feed["sealed_disclosures"] for feed in entries.values())
    assert all(not feed["feed_disclosures"] for feed in entries.values())
    assert worker.table[erased]["lifecycle"]["erased_at"] == event["erased_at"].isoformat()
    assert not [value for value in PERSONAL if value in caplog.text]


def test_an_erased_case_is_never_erased_again_by_this_worker_or_the_next(
    worker: Worker, at_closing: tuple[RetentionRule, ...]
) -> None:
    closed_case(worker)
    inbound = HubInbound()
    timer = worker.timer(at_closing, inbound)
    asyncio.run(timer.look())
    # Before the erasure is back from the broker, this worker remembers sending it.
    assert asyncio.run(timer.look()) == 0
    worker.deliver(*inbound.sent[0])

    restarted = worker.timer(at_closing, inbound)

    assert asyncio.run(restarted.look()) == 0
    assert len(inbound.sent) == 1


def test_a_second_worker_erasing_the_same_case_records_nothing_more(
    worker: Worker, at_closing: tuple[RetentionRule, ...]
) -> None:
    case_id = closed_case(worker)
    first, second = HubInbound(), HubInbound()
    # Two workers look before either erasure is back from the broker (a standby table copy).
    asyncio.run(worker.timer(at_closing, first).look())
    asyncio.run(worker.timer(at_closing, second).look())
    worker.deliver(*first.sent[0])
    head = worker.table[case_id]["chain"]

    produced = worker.deliver(*second.sent[0])

    letters = [worker.step.codec.decode(v).record for t, _, v, _ in produced if t == DLQ]
    assert [letter["reason_code"] for letter in letters] == ["duplicate_event"]
    assert worker.table[case_id]["chain"] == head


def test_an_open_case_and_a_case_closed_too_recently_are_kept(worker: Worker) -> None:
    still_open, recent = opened(worker), closed_case(worker)
    five_years = parse_rules({"rule": [AT_CLOSING | {"days": 0, "years": 5}]}, "test")
    inbound = HubInbound()
    started = caught_up(worker)

    assert asyncio.run(worker.timer(five_years, inbound).look()) == 0
    assert caught_up(worker) > started  # nothing was due: the timer is caught up

    assert inbound.sent == []
    keys = worker.vault().keys_for([still_open, recent], create=False)
    assert all(isinstance(key, bytes) for key in keys.values())


def test_a_vault_out_of_reach_is_logged_and_tried_again_next_run(
    worker: Worker,
    at_closing: tuple[RetentionRule, ...],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    case_id = closed_case(worker)
    unreachable = DataKeyVault(
        f"sqlite:///{tmp_path / 'no such folder' / 'vault.db'}", worker.vault().ring
    )
    inbound = HubInbound()
    started = caught_up(worker)

    with caplog.at_level(logging.ERROR, logger="streams.hub.retention_timer"):
        assert asyncio.run(worker.timer_on(unreachable, at_closing, inbound).look()) == 0

    assert "the vault is unavailable" in caplog.text
    assert "tried again next run" in caplog.text
    assert failures(worker) == 1
    assert caught_up(worker) == started  # a case is left due: what KawalRetentionBehind ages
    assert inbound.sent == []
    assert worker.vault().tombstone(case_id) is None
    assert asyncio.run(worker.timer(at_closing, inbound).look()) == 1
    assert isinstance(worker.vault().keys_for([case_id], create=False)[case_id], Erased)
    assert caught_up(worker) > started


def caught_up(worker: Worker) -> float:
    """When the timer last began a look that left no case due (the worker's start at first)."""
    name = "kawal_retention_caught_up_timestamp_seconds"
    moment = worker.step.metrics.registry.get_sample_value(name)
    assert moment is not None
    return moment


def failures(worker: Worker) -> float:
    counted = worker.step.metrics.registry.get_sample_value("kawal_retention_failures_total")
    assert counted is not None
    return counted


def test_a_frozen_vault_is_given_up_on_logged_counted_and_erased_at_the_next_run(
    worker: Worker,
    at_closing: tuple[RetentionRule, ...],
    postgres: PostgresServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # On a vault frozen (its processes stopped) the erasure waited on a pooled connection
    # until it thawed: the timer's run hung with no metric and no log line.
    case_id = closed_case(worker)
    vault = DataKeyVault(postgres.create_database("retention_vault"), worker.vault().ring)
    vault.create_schema()  # its connection stays in the pool
    inbound = HubInbound()
    timer = worker.timer_on(BoundedVault(vault, answer_seconds=2), at_closing, inbound)
    runs: list[int] = []

    async def outage() -> None:
        with postgres.frozen():
            async with asyncio.timeout(WAIT_SECONDS):
                runs.append(await timer.look())
        async with asyncio.timeout(WAIT_SECONDS):
            while (erased := await timer.look()) == 0:  # the frozen call may still be ending
                await asyncio.sleep(0.5)
            runs.append(erased)

    try:
        with caplog.at_level(logging.ERROR, logger="streams.hub.retention_timer"):
            asyncio.run(outage())
        tombstone = vault.tombstone(case_id)
    finally:
        vault.close()

    assert runs == [0, 1]
    assert failures(worker) >= 1
    said = [r.getMessage() for r in caplog.records]
    assert "the vault is unavailable (the vault gave no answer within 2 s" in said[0]
    assert "tried again next run" in said[0]
    assert tombstone is not None
    [(key, _value)] = inbound.sent
    assert key == case_id.encode()
