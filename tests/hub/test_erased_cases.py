"""An erased case stays erased: later events keep and pass on none of its personal data.

The values of a case whose data key was destroyed are gone for the hub; a later event of the
case is still chained, signed and routed, but neither ``kawal.case.audit`` nor any feed carries
its personal data, sealed or not.
"""

from __future__ import annotations

from pathlib import Path

from streams.hub.case_table import CaseBatch
from streams.topics import CASE_AUDIT, DLQ, OUTBOUND_PREFIX
from streams.vault.data_keys import DataKeyVault
from tests.hub.steptools import inbound_message, step_pipeline
from tests.hubtools import registration, report, verification


def test_a_later_event_of_an_erased_case_keeps_and_routes_no_personal_data(
    tmp_path: Path,
) -> None:
    step = step_pipeline(tmp_path)
    cases = CaseBatch({})
    first = report("bawaslu.33")
    case_id = first["envelope"]["case_id"]
    steps = [("ReportReceived", first), ("ReportRegistered", registration(case_id))]
    for offset, (event_type, record) in enumerate(steps):
        step.decide(cases, inbound_message(step, event_type, record, offset))
    vault = step.case_keys
    assert isinstance(vault, DataKeyVault)
    vault.erase(case_id, "a data subject's request")

    later = verification(case_id)
    produced = step.decide(cases, inbound_message(step, "VerificationCompleted", later, 2))

    assert DLQ not in {topic for topic, *_ in produced}
    entries = {
        topic: step.codec.decode(value).record
        for topic, _, value, _ in produced
        if topic == CASE_AUDIT or topic.startswith(OUTBOUND_PREFIX)
    }
    audit = entries.pop(CASE_AUDIT)
    assert (audit["disclosures"], audit["vaulted_disclosures"]) == ([], b"")
    feeds = [e for e in entries.values() if "prev_hash" in e]
    assert feeds, "the entry is still routed"
    assert all(e["sealed_disclosures"] == [] and e["disclosures"] == [] for e in feeds)
    assert all(e["feed_disclosures"] == [] for e in feeds)
    assert later["findings"].encode() not in b"".join(value for *_, value, _ in produced)
