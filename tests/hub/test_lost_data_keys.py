"""A case whose data key the vault lost: its events are refused, never sealed under a new key.

A vault restored from an older backup lacks the keys of the cases begun after it. A key made
anew would seal the case's next values apart from its earlier ones, and a later restore of the
right key would leave those unreadable; so the hub refuses the case's events as
``data_key_missing``, keeps them in ``kawal.dlq`` for replay, and says what to restore.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from streams.hub.case_table import CaseBatch
from streams.hub.pipeline import Pipeline
from streams.topics import CASE_AUDIT, DLQ, outbound_topic
from streams.vault.data_keys import DataKeyVault
from tests.hub.steptools import inbound_message, step_pipeline
from tests.hubtools import registration, report, verification

SENDER = "bawaslu.33"


def opened_case(step: Pipeline, cases: CaseBatch) -> str:
    """A case reported and registered through ``step``; its id."""
    first = report(SENDER)
    case_id: str = first["envelope"]["case_id"]
    for offset, (event_type, record) in enumerate(
        [("ReportReceived", first), ("ReportRegistered", registration(case_id))]
    ):
        step.decide(cases, inbound_message(step, event_type, record, offset))
    return case_id


def vault_of(step: Pipeline) -> DataKeyVault:
    vault = step.case_keys
    assert isinstance(vault, DataKeyVault)
    return vault


def lose_key(vault: DataKeyVault, case_id: str) -> dict[str, Any]:
    """Delete the case's key row, as a restore from an older backup leaves it; the row."""
    with vault.engine.begin() as conn:
        query = text("SELECT * FROM case_data_keys WHERE case_id = :c")
        row = dict(conn.execute(query, {"c": case_id}).mappings().one())
        conn.execute(text("DELETE FROM case_data_keys WHERE case_id = :c"), {"c": case_id})
    vault._cache.evict(case_id)
    return row


def restore_key(vault: DataKeyVault, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    values = ", ".join(f":{name}" for name in row)
    with vault.engine.begin() as conn:
        conn.execute(text(f"INSERT INTO case_data_keys ({columns}) VALUES ({values})"), row)


def decoded(step: Pipeline, produced: list[Any], topic: str) -> list[dict[str, Any]]:
    return [step.codec.decode(value).record for t, _, value, _ in produced if t == topic]


def test_an_event_of_a_case_whose_key_is_lost_is_refused_and_replays_once_restored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    step = step_pipeline(tmp_path)
    cases = CaseBatch({})
    case_id = opened_case(step, cases)
    vault = vault_of(step)
    row = lose_key(vault, case_id)
    later = inbound_message(step, "VerificationCompleted", verification(case_id), 2)

    with caplog.at_level(logging.ERROR, logger="streams.hub.pipeline"):
        produced = step.decide(cases, later)

    assert decoded(step, produced, CASE_AUDIT) == []
    [letter] = decoded(step, produced, DLQ)
    assert letter["reason_code"] == "data_key_missing"
    [receipt] = decoded(step, produced, outbound_topic(SENDER))
    assert (receipt["status"], receipt["reason_code"]) == ("REJECTED", "data_key_missing")
    assert "do not send it again" in receipt["reason"]
    assert vault.keys_for([case_id], create=False) == {}, "no new key for a case the hub holds"
    [logged] = [r.getMessage() for r in caplog.records]
    assert f"no key for case {case_id}, which has 2 entries" in logged
    assert "kawal dlq replay --reason data_key_missing" in logged
    labels = {"stage": "ingress", "reason": "data_key_missing"}
    assert step.metrics.registry.get_sample_value("kawal_rejections_total", labels) == 1

    restore_key(vault, row)
    replayed = step.decide(cases, later)

    [entry] = decoded(step, replayed, CASE_AUDIT)
    assert entry["seq"] == 3
    assert DLQ not in {topic for topic, *_ in replayed}


def test_the_batch_makes_keys_for_the_cases_it_opens_only(tmp_path: Path) -> None:
    step = step_pipeline(tmp_path)
    cases = CaseBatch({})
    held = opened_case(step, cases)
    vault = vault_of(step)
    lose_key(vault, held)
    new = report(SENDER)
    messages = [
        inbound_message(step, "VerificationCompleted", verification(held), 2),
        inbound_message(step, "ReportReceived", new, 3),
    ]

    keys = asyncio.run(step._batch_keys(messages, cases))

    assert set(keys) == {new["envelope"]["case_id"]}
    assert vault.keys_for([held], create=False) == {}
