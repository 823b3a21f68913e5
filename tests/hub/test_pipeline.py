"""End to end on the real broker: inbound topics → pipeline → audit sink → trail."""

from __future__ import annotations

import sqlite3

from streams.domain.chain import GENESIS_HASH, verify_chain
from streams.domain.commitments import COMMITMENT_PREFIX
from streams.topics import CASE_EVENTS, DLQ, inbound_topic
from tests.hubtools import (
    RunningHub,
    http_get,
    recommendation,
    registration,
    report,
    sanction,
)


def test_three_institutions_one_case_give_one_verified_trail(hub: RunningHub) -> None:
    # Each institution acts on what the previous one did, as seen in its outbound feed; the
    # hub orders one case across inbound topics by arrival, so the test waits the same way.
    case_id = hub.open_case("bawaslu.33")
    hub.step("RecommendationIssued", recommendation(case_id, "bkn"))
    rows = hub.step("SanctionImposed", sanction(case_id, "ppk.3374"))

    assert [row.seq for row in rows] == [1, 2, 3, 4, 5, 6]
    assert [row.event_type for row in rows] == [
        "ReportReceived",
        "ReportRegistered",
        "VerificationCompleted",
        "ReferralForwarded",
        "RecommendationIssued",
        "SanctionImposed",
    ]
    assert rows[0].prev_hash == GENESIS_HASH
    assert verify_chain(rows) is None
    assert {row.source_topic for row in rows} == {
        inbound_topic("bawaslu.33"),
        inbound_topic("bkn"),
        inbound_topic("ppk.3374"),
    }


def test_trail_is_stored_in_sqlite(hub: RunningHub) -> None:
    event = report("bawaslu")
    case_id = event["envelope"]["case_id"]
    hub.publish("ReportReceived", event)
    hub.wait_trail(case_id, 1)

    database = hub.store.engine.url.database
    assert database is not None
    with sqlite3.connect(database) as conn:
        stored = conn.execute(
            "SELECT seq, event_id FROM audit_entries WHERE case_id = ?", (case_id,)
        ).fetchall()
    assert stored == [(1, event["envelope"]["event_id"])]


def test_http_trail_verifies_and_withholds_personal_data(hub: RunningHub) -> None:
    event = report("bawaslu.33")
    case_id = event["envelope"]["case_id"]
    hub.publish("ReportReceived", event)
    hub.wait_trail(case_id, 1)

    view = hub.trail_json(case_id)

    assert view["verified"] is True
    fields = view["entries"][0]["fields"]
    assert fields["case_number"] == event["case_number"]
    body = str(view)
    for secret in ("Test Reporter", "Test Subject", "198501012010011001"):
        assert secret not in body


def test_case_events_carry_the_chained_bytes_without_personal_data(hub: RunningHub) -> None:
    event = report("bawaslu.33")
    case_id = event["envelope"]["case_id"]
    hub.publish("ReportReceived", event)
    [row] = hub.wait_trail(case_id, 1)

    [published] = hub.read(CASE_EVENTS, lambda r: r["envelope"]["case_id"] == case_id)

    assert hub.codec.encode_canonical("ReportReceived", published) == row.event
    assert published["subject_nip"].startswith(COMMITMENT_PREFIX)
    assert published["subject_name"].startswith(COMMITMENT_PREFIX)
    # The bytes are exactly what the sender signed: the hub stamps nothing into them.
    assert published["envelope"]["ingest_time"] is None


def test_same_event_published_twice_gives_one_entry(hub: RunningHub) -> None:
    event = report("bawaslu.33")
    case_id = event["envelope"]["case_id"]
    hub.publish("ReportReceived", event)
    hub.publish("ReportReceived", event)
    hub.wait_trail(case_id, 1)
    hub.publish("ReportRegistered", registration(case_id))

    rows = hub.wait_trail(case_id, 2)

    assert [row.event_type for row in rows] == ["ReportReceived", "ReportRegistered"]
    # This event's own letter: other tests of the session send duplicates to this topic too.
    duplicates = hub.dead_letters(
        inbound_topic("bawaslu.33"),
        lambda d: (
            d["reason_code"] == "duplicate_event"
            and hub.event_id_in(d) == event["envelope"]["event_id"]
        ),
    )
    assert duplicates, f"no duplicate_event letter of the second send\n{hub.worker.log_tail(30)}"
    assert all("Test Reporter" not in d["reason"] for d in duplicates)
    # A re-send is no fault of the sender's: the letter says the first acceptance stands.
    assert "which stands: harmless if this is the same event sent again" in duplicates[0]["reason"]


def test_undecodable_message_goes_to_dlq_and_pipeline_continues(hub: RunningHub) -> None:
    event = report("inspektorat.3374")
    case_id = event["envelope"]["case_id"]
    garbage = b"\x00\x01 not avro at all " + case_id.encode()
    hub.publisher.send_raw("inspektorat.3374", case_id, garbage)
    hub.publish("ReportReceived", event)

    rows = hub.wait_trail(case_id, 1)
    # Other tests of the session reject records on this topic too: find this one's.
    letters = hub.read(DLQ, lambda r: hub.letter_payload(r) == garbage)

    assert rows[0].event_id == event["envelope"]["event_id"]
    assert letters[0]["source_topic"] == inbound_topic("inspektorat.3374")
    assert letters[0]["stage"] == "ingress"
    assert letters[0]["reason_code"] in {"bad_magic", "truncated", "unknown_schema"}
    assert letters[0]["reason"]


def test_event_on_another_institutions_topic_is_rejected(hub: RunningHub) -> None:
    event = report("bawaslu.33")
    case_id = event["envelope"]["case_id"]
    published = hub.signed("ReportReceived", event)
    hub.publisher.send_raw("bkn", case_id, published)
    hub.publisher.flush()

    letters = hub.read(DLQ, lambda r: hub.letter_payload(r) == published)

    assert [d["reason_code"] for d in letters] == ["source_mismatch"]
    assert hub.store.trail(case_id) == []


def test_metrics_count_events_per_stage(hub: RunningHub) -> None:
    event = report("bawaslu")
    hub.publish("ReportReceived", event)
    hub.wait_trail(event["envelope"]["case_id"], 1)

    # The worker counts the pipeline's stages; the audit sink, a process of its own, its own.
    for base_url, stages in ((hub.base_url, ("ingress", "ledger")), (hub.sink_url, ("sink",))):
        status, body = http_get(f"{base_url}/metrics")
        text = body.decode()
        assert status == 200
        for stage in stages:
            line = f'kawal_events_total{{outcome="accepted",stage="{stage}"}}'
            value = next(row for row in text.splitlines() if row.startswith(line)).split()[-1]
            assert float(value) >= 1
        assert "kawal_event_processing_seconds_bucket" in text
