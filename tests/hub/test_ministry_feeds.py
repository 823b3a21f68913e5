"""The ministries that oversee follow-up receive every breached deadline, on the real broker.

DOMAIN.md: DeadlineBreached, which the hub emits when a clock runs out, is consumed by the
recommending authority, BKN, KemenPAN-RB and Kemendagri. The two ministries are institutions of
the bundled registry in the ``ministry`` role: each feed carries the breach, signed by the hub
and verifiable like any entry, with no personal data, and nothing else of the case. Institutions
whose role does not consume it never receive it, and a ministry may not emit it itself.
"""

from __future__ import annotations

from typing import Any

from streams.domain.entries import EntryProblem, check_entry
from streams.domain.institutions import load_institutions
from streams.topics import inbound_topic
from tests.hubtools import RunningHub, envelope

MINISTRIES = ("kemenpanrb", "kemendagri")
#: Parties of the case whose roles do not consume DeadlineBreached.
NOT_ENTITLED = ("ppk.3374", "bawaslu.33", "inspektorat.3374")
#: Seconds to wait for a record that must not come.
SETTLE_SECONDS = 3.0


def test_the_bundled_registry_has_both_ministries_in_the_ministry_role() -> None:
    roles = {inst.id: inst.role for inst in load_institutions()}

    assert {ministry: roles.get(ministry) for ministry in MINISTRIES} == dict.fromkeys(
        MINISTRIES, "ministry"
    )


def test_a_breached_deadline_reaches_both_ministries_and_no_one_not_entitled(
    hub: RunningHub,
) -> None:
    case_id = hub.ignored_case()
    rows = hub.wait_trail(case_id, 6)  # the timer's DeadlineBreached
    breach = rows[5]
    assert breach.event_type == "DeadlineBreached"
    registry = hub.publisher.keyring.registry

    for ministry in MINISTRIES:
        [entry] = hub.case_feed(ministry, case_id, at_least=1)
        assert (entry["event_type"], entry["seq"], entry["hash"]) == (
            "DeadlineBreached",
            breach.seq,
            breach.hash,
        )
        # Signed by the hub (entry and event), its chain hash the stored one; nothing personal.
        event = check_entry(hub.codec, registry, entry, hub.opened(ministry, entry))
        assert not isinstance(event, EntryProblem), event
        assert event["responsible_institution"] == "ppk.3374"
        assert entry["disclosures"] == entry["feed_disclosures"] == []
    for other in NOT_ENTITLED:
        routed = hub.case_feed(other, case_id, at_least=99, timeout=SETTLE_SECONDS)
        assert routed, other  # a party of the case, fed its other entries
        assert "DeadlineBreached" not in {entry["event_type"] for entry in routed}, other


def test_a_ministry_may_not_emit_a_deadline_breach(hub: RunningHub) -> None:
    case_id = hub.open_case()
    referred = hub.store.trail(case_id)[-1]
    forged: dict[str, Any] = {
        "envelope": envelope(case_id, "kemendagri", "DeadlineBreached"),
        "rule_id": "recommendation_follow_up",
        "legal_source": "configurable",
        "working_days": 14,
        "clock_started_at": referred.recorded_at,
        "due_at": referred.recorded_at,
        "breached_at": referred.recorded_at,
        "responsible_institution": "ppk.3374",
        "responsible_role": "PPK",
        "caused_by_event_id": referred.event_id,
        "met_at": None,
    }
    hub.publish("DeadlineBreached", forged)

    event_id = forged["envelope"]["event_id"]
    refused = hub.dead_letters(
        inbound_topic("kemendagri"), lambda letter: hub.event_id_in(letter) == event_id
    )
    assert refused[0]["reason_code"] == "unauthorized_sender", refused[0]["reason"]
    assert "kemendagri (ministry) may not emit DeadlineBreached" in refused[0]["reason"]
    [receipt] = hub.receipts("kemendagri", event_id)
    assert receipt["status"] == "REJECTED"
