"""A failure inside the pipeline step refuses the record and leaves its case untouched."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from streams.domain.disclosure_policy import DisclosurePolicy
from streams.hub.case_table import CaseBatch
from streams.hub.feed_sealing import FeedSealer
from streams.hub.router import Router
from streams.topics import DLQ, outbound_topic
from tests.hub.steptools import inbound_message, step_pipeline
from tests.hubtools import registration, report


class BrokenRouter(Router):
    """A router with a defect: it fails on every entry, quoting the entry (personal data)."""

    def feeds(self, *args: Any, **kwargs: Any) -> list[tuple[str, bytes]]:
        raise RuntimeError(repr(args))


def test_an_unexpected_failure_is_an_internal_error_and_changes_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    working = step_pipeline(tmp_path)
    cases = CaseBatch({})
    first = report()
    case_id = first["envelope"]["case_id"]
    working.decide(cases, inbound_message(working, "ReportReceived", first, 0))
    before = cases.get(case_id)
    assert before is not None
    sealer = FeedSealer(working.rules.catalog, working.rules.keys, working.metrics)
    router = BrokenRouter(working.rules.catalog, working.codec, (), DisclosurePolicy(()), sealer)
    broken = replace(working, router=router)

    produced = broken.decide(
        cases, inbound_message(broken, "ReportRegistered", registration(case_id), 1)
    )

    letters = [
        working.codec.decode(value).record for topic, _, value, _ in produced if topic == DLQ
    ]
    assert [letter["reason_code"] for letter in letters] == ["internal_error"]
    assert "RuntimeError" in letters[0]["reason"]
    assert "3374012345678901" not in letters[0]["reason"] + caplog.text
    receipts = [value for topic, _, value, _ in produced if topic == outbound_topic("bawaslu.33")]
    assert working.codec.decode(receipts[0]).record["reason_code"] == "internal_error"
    after = cases.get(case_id)
    assert after is not None
    assert after.chain.to_json() == before.chain.to_json()
    assert after.lifecycle.to_json() == before.lifecycle.to_json()
