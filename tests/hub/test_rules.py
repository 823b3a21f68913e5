"""Every rejection kind on the real broker.

Each lands in kawal.dlq with its reason, the sender gets a rejection receipt, and the next
valid event is processed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from streams.broker.partitioner import partition_of
from streams.domain.lifecycle import CLOSED_ADVICE
from streams.hub.ingress import MAX_EVENT_BYTES
from streams.hub.record_keys import key_mismatch_reason
from streams.settings import Settings
from streams.topics import DLQ, inbound_topic
from tests.hubtools import (
    RunningHub,
    envelope,
    recommendation,
    registration,
    report,
    sanction,
    verification,
)


def case_closed(case_id: str, source: str = "bkn") -> dict[str, Any]:
    return {
        "envelope": envelope(case_id, source, "CaseClosed"),
        "closing_reason": "NOT_PROVEN",
        "closed_on": date(2024, 12, 1),
        "final_sanction": None,
        "merged_into_case_id": None,
        "remarks": None,
    }


def rejected(
    hub: RunningHub, sender: str, record: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The DLQ record and the rejection receipt of ``record``."""
    event_id = record["envelope"]["event_id"]
    letters = hub.dead_letters(inbound_topic(sender), lambda d: hub.event_id_in(d) == event_id)
    receipts = [r for r in hub.receipts(sender, event_id) if r["status"] == "REJECTED"]
    assert letters, f"no DLQ record for {event_id}"
    assert receipts, f"no rejection receipt for {event_id}"
    return letters[0], receipts[0]


def letters_with_reason(hub: RunningHub, sender: str, reason: str) -> list[dict[str, Any]]:
    """DLQ records of ``sender``'s inbound topic refused for ``reason``."""
    return hub.dead_letters(inbound_topic(sender), lambda d: d["reason_code"] == reason)


def test_accepted_event_gets_a_receipt_with_its_sequence_number(hub: RunningHub) -> None:
    event = report("bawaslu.33")
    hub.step("ReportReceived", event)

    receipts = hub.receipts("bawaslu.33", event["envelope"]["event_id"])

    assert receipts[0]["status"] == "ACCEPTED"
    assert receipts[0]["seq"] == 1
    assert receipts[0]["case_id"] == event["envelope"]["case_id"]


def test_unauthorized_sender_is_rejected_and_the_next_event_goes_on(hub: RunningHub) -> None:
    case_id = hub.open_case()
    forged = recommendation(case_id, "ppk.3374")
    hub.publish("RecommendationIssued", forged)
    hub.step("RecommendationIssued", recommendation(case_id, "bkn"))

    letter, receipt = rejected(hub, "ppk.3374", forged)

    assert letter["reason_code"] == receipt["reason_code"] == "unauthorized_sender"
    assert "ppk.3374" in letter["reason"]
    assert [row.event_type for row in hub.store.trail(case_id)][-1] == "RecommendationIssued"


def test_former_authority_cannot_recommend_on_a_later_case(hub: RunningHub) -> None:
    case_id = hub.open_case()  # reported now, so after the transfer to BKN
    stale = recommendation(case_id, "kasn")
    hub.publish("RecommendationIssued", stale)

    letter, _ = rejected(hub, "kasn", stale)

    assert letter["reason_code"] == "unauthorized_sender"


def test_sanction_before_recommendation_is_an_illegal_transition(hub: RunningHub) -> None:
    case_id = hub.open_case()
    early = sanction(case_id)
    hub.publish("SanctionImposed", early)

    letter, receipt = rejected(hub, "ppk.3374", early)

    assert letter["reason_code"] == "illegal_transition"
    assert "referred" in receipt["reason"]


def test_unfit_sanction_is_rejected(hub: RunningHub) -> None:
    case_id = hub.open_case()
    hub.step("RecommendationIssued", recommendation(case_id))
    light = sanction(case_id) | {"sanction_level": "LIGHT", "sanction_kind": "WRITTEN_REPRIMAND"}
    hub.publish("SanctionImposed", light)
    hub.step("SanctionImposed", sanction(case_id))

    letter, _ = rejected(hub, "ppk.3374", light)

    assert letter["reason_code"] == "unfit_sanction"
    assert "medium-to-heavy" in letter["reason"]


def test_nothing_follows_a_closed_case(hub: RunningHub) -> None:
    first = report("bawaslu.33")
    case_id = first["envelope"]["case_id"]
    hub.step("ReportReceived", first)
    hub.step("ReportRegistered", registration(case_id))
    hub.step("VerificationCompleted", verification(case_id, proven=False))
    hub.step("CaseClosed", case_closed(case_id))
    late = case_closed(case_id)
    hub.publish("CaseClosed", late)

    letter, _ = rejected(hub, "bkn", late)

    assert letter["reason_code"] == "case_closed"
    # What to do: nothing for an event sent again, the closing authority for a correction.
    assert letter["reason"] == "the case is closed; CaseClosed cannot follow" + CLOSED_ADVICE


def test_a_report_of_no_region_no_ppk_or_no_election_opens_no_case(hub: RunningHub) -> None:
    # A region written in Arabic-Indic digits would count the case beside Semarang's own.
    odd_region = report("bawaslu.33") | {"region_code": "33\u0667\u0664"}
    no_province = report("bawaslu.33") | {"region_code": "9971"}
    not_a_ppk = report("bawaslu.33") | {"employing_agency": "bkn"}
    # An escape sequence would clear the terminal of whoever reads `kawal stats`.
    escape = report("bawaslu.33") | {"election": "pilkada\x1b[2J"}
    for refused in (odd_region, no_province, not_a_ppk, escape):
        hub.publish("ReportReceived", refused)
    valid = report("bawaslu.33")
    hub.step("ReportReceived", valid)

    answers = [rejected(hub, "bawaslu.33", record) for record in (odd_region, no_province)]
    agency_letter, agency_receipt = rejected(hub, "bawaslu.33", not_a_ppk)

    for letter, receipt in answers:
        assert letter["reason_code"] == receipt["reason_code"] == "unknown_region"
    assert "not a Kemendagri code" in answers[0][0]["reason"]
    assert "names no province" in answers[1][0]["reason"]
    assert "9971" not in answers[1][0]["reason"]
    assert agency_letter["reason_code"] == agency_receipt["reason_code"]
    assert agency_receipt["reason_code"] == "not_an_employing_agency"
    assert "registered as personnel_agency" in agency_letter["reason"]
    election_letter, _ = rejected(hub, "bawaslu.33", escape)
    assert election_letter["reason_code"] == "invalid_election"
    for record in (odd_region, no_province, not_a_ppk, escape):
        assert hub.store.trail(record["envelope"]["case_id"]) == []
    assert len(hub.store.trail(valid["envelope"]["case_id"])) == 1


def test_a_report_whose_nip_is_not_18_digits_is_refused_to_its_sender(hub: RunningHub) -> None:
    # Fullwidth digits: SIASN knows no civil servant by them, and BKN could never act.
    fullwidth = report("bawaslu.33") | {"subject_nip": "\uff11" * 18}
    unknown = report("bawaslu.33") | {"subject_nip": ""}
    hub.publish("ReportReceived", fullwidth)
    hub.step("ReportReceived", unknown)

    letter, receipt = rejected(hub, "bawaslu.33", fullwidth)

    assert letter["reason_code"] == receipt["reason_code"] == "invalid_nip"
    assert "\uff11" not in letter["reason"]
    assert hub.store.trail(fullwidth["envelope"]["case_id"]) == []
    assert len(hub.store.trail(unknown["envelope"]["case_id"])) == 1


def test_unknown_schema_is_rejected(hub: RunningHub) -> None:
    event = report("bawaslu.33")
    case_id = event["envelope"]["case_id"]
    unknown_fingerprint = bytes([0xC3, 0x01]) + bytes(8) + bytes([0x02])
    hub.publisher.send_raw("bawaslu.33", case_id, unknown_fingerprint)
    hub.step("ReportReceived", event)

    assert letters_with_reason(hub, "bawaslu.33", "unknown_schema")


def test_an_oversized_record_is_rejected_and_left_on_its_topic(hub: RunningHub) -> None:
    event = report("bawaslu.33")
    case_id = event["envelope"]["case_id"]
    oversized = hub.signed("ReportReceived", event) + bytes(MAX_EVENT_BYTES)
    hub.publisher.send_raw("bawaslu.33", case_id, oversized)
    hub.step("ReportReceived", event)

    letters = letters_with_reason(hub, "bawaslu.33", "event_too_large")

    assert letters
    # The DLQ record points at the inbound record instead of copying it.
    assert letters[0]["payload"] == b""
    assert str(len(oversized)) in letters[0]["reason"]


def test_a_record_that_is_not_an_event_is_rejected(hub: RunningHub) -> None:
    event = report("bawaslu.33")
    case_id = event["envelope"]["case_id"]
    letter = {
        "stage": "ingress",
        "reason_code": "x",
        "reason": "x",
        "source_topic": "t",
        "source_partition": 0,
        "source_offset": 0,
        "payload": b"",
        "rejected_at": datetime.now(UTC),
    }
    hub.publisher.send_raw(
        "inspektorat.3374", case_id, hub.codec.encode("kawal.DeadLetter", letter)
    )
    hub.step("ReportReceived", report("inspektorat.3374"))

    letters = hub.read(
        DLQ,
        lambda r: (
            r["source_topic"] == inbound_topic("inspektorat.3374")
            and r["reason_code"] == "not_an_event"
        ),
    )

    assert letters


def test_a_record_keyed_by_another_case_is_rejected(hub: RunningHub) -> None:
    event, other = report("bawaslu.33"), report("bawaslu.33")
    other_case = other["envelope"]["case_id"]
    hub.publisher.send_raw("bawaslu.33", other_case, hub.signed("ReportReceived", event))
    # Keyed alike, the other case's report is processed after the mis-keyed record.
    hub.step("ReportReceived", other)

    letter, receipt = rejected(hub, "bawaslu.33", event)

    assert letter["reason_code"] == receipt["reason_code"] == "key_mismatch"
    assert (
        receipt["reason"]
        == letter["reason"]
        == key_mismatch_reason(other_case.encode(), event["envelope"]["case_id"])
    )
    assert hub.store.trail(event["envelope"]["case_id"]) == []


def test_a_record_on_another_partition_than_its_key_gives_is_rejected(hub: RunningHub) -> None:
    partitions = Settings().partitions
    event = report("bawaslu.33")
    own = partition_of(event["envelope"]["case_id"].encode(), partitions)
    other = report("bawaslu.33")
    while partition_of(other["envelope"]["case_id"].encode(), partitions) == own:
        other = report("bawaslu.33")
    wrong = partition_of(other["envelope"]["case_id"].encode(), partitions)
    hub.publisher.producer.send(
        inbound_topic("bawaslu.33"),
        key=event["envelope"]["case_id"].encode(),
        value=hub.signed("ReportReceived", event),
        partition=wrong,
    ).get(timeout=30)
    # On the same partition, the other case's report is processed after the misplaced record.
    hub.step("ReportReceived", other)

    letter, receipt = rejected(hub, "bawaslu.33", event)

    assert letter["reason_code"] == receipt["reason_code"] == "wrong_partition"
    assert (
        f"came on partition {wrong}, but its case's records belong on partition {own}"
        in (letter["reason"])
    )
    assert "murmur2" in receipt["reason"]
    assert hub.store.trail(event["envelope"]["case_id"]) == []
