"""Outbound feeds on the real broker: who receives what, redacted per policy, still verifiable."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from schemas.catalog import default_catalog
from streams.domain.chain import verify_chain
from streams.domain.commitments import reveal
from streams.domain.disclosure_policy import load_disclosure_policy
from streams.domain.entries import EntryProblem, check_entry
from tests.hubtools import RunningHub, recommendation, report, until_referral

SETTLE_SECONDS = 3.0


def test_ppk_view_has_no_reporter_identity_and_both_views_verify(hub: RunningHub) -> None:
    case_id = hub.open_case("bawaslu.33")
    rows = hub.step("RecommendationIssued", recommendation(case_id, "bkn"))

    ppk = hub.case_feed("ppk.3374", case_id, at_least=3)
    authority = hub.case_feed("bkn", case_id, at_least=5)

    # Full view: the stored trail verifies and its disclosures open the commitments.
    assert verify_chain(rows) is None
    full_report = hub.codec.decode(rows[0].event).record
    assert json.loads(rows[0].disclosures) == []  # nothing in clear in the store
    assert reveal(full_report, hub.kept(rows[0]))["reporter_identity"] == "Test Reporter"
    # Redacted view: same hashes as the canonical chain, both signatures hold, nothing about
    # the reporter.
    store_hash = {row.seq: row.hash for row in rows}
    registry = hub.publisher.keyring.registry
    for entry in ppk:
        shown_to_ppk = hub.opened("ppk.3374", entry)
        checked = check_entry(hub.codec, registry, entry, shown_to_ppk)
        assert not isinstance(checked, EntryProblem)
        assert store_hash[entry["seq"]] == entry["hash"]
        assert b"Test Reporter" not in entry["event"]
        assert entry["disclosures"] == []
        assert all(d["field"] != "reporter_identity" for d in shown_to_ppk)
    assert "ReportReceived" not in {entry["event_type"] for entry in ppk}
    assert {"ReportRegistered", "RecommendationIssued"} <= {entry["event_type"] for entry in ppk}
    # Each entry carries exactly the disclosures the policy grants the PPK for its event type:
    # the verification's findings, for one, stay with the supervisor and the authority.
    policy = load_disclosure_policy(None, default_catalog())
    full = {row.seq: [d["field"] for d in hub.kept(row)] for row in rows}
    for entry in ppk:
        shown = tuple(d["field"] for d in hub.opened("ppk.3374", entry))
        assert shown == policy.visible({"ppk"}, entry["event_type"], full[entry["seq"]])
    verified = next(e for e in ppk if e["event_type"] == "VerificationCompleted")
    assert full[verified["seq"]] == ["findings"]
    assert hub.opened("ppk.3374", verified) == []
    assert verified["sealed_disclosures"] == []
    # The recommending authority may know who reported.
    bkn_report = next(e for e in authority if e["event_type"] == "ReportReceived")
    event = hub.codec.decode(bkn_report["event"]).record
    assert reveal(event, hub.opened("bkn", bkn_report))["reporter_identity"] == "Test Reporter"


def test_cases_go_to_the_authority_of_their_period(hub: RunningHub) -> None:
    before = report("bawaslu.33")
    kasn_period = datetime(2023, 12, 4, 9, 30, tzinfo=UTC)
    before["envelope"]["event_time"] = kasn_period
    old_case = before["envelope"]["case_id"]
    hub.step("ReportReceived", before)
    # Handled while KASN held the authority: after the transfer the referral goes to BKN.
    for event_type, record in until_referral(old_case):
        record["envelope"]["event_time"] = kasn_period
        if event_type == "ReferralForwarded":
            record["to_authority"] = "kasn"
        hub.step(event_type, record)
    new_case = hub.open_case("bawaslu.33")

    kasn_old = hub.case_feed("kasn", old_case, at_least=4)
    bkn_new = hub.case_feed("bkn", new_case, at_least=4)
    kasn_new = hub.case_feed("kasn", new_case, at_least=1, timeout=SETTLE_SECONDS)
    bkn_old_referrals = [
        e
        for e in hub.case_feed("bkn", old_case, at_least=99, timeout=SETTLE_SECONDS)
        if e["event_type"] == "ReferralForwarded"
    ]

    assert "ReferralForwarded" in {e["event_type"] for e in kasn_old}
    assert "ReferralForwarded" in {e["event_type"] for e in bkn_new}
    assert kasn_new == []
    assert bkn_old_referrals == []
    # BKN, only the personnel agency of the older case, is told nothing personal of it; as the
    # newer case's authority it has the report whole.
    bkn_old = hub.case_feed("bkn", old_case, at_least=2)
    assert {e["event_type"] for e in bkn_old} >= {"ReportRegistered", "VerificationCompleted"}
    assert all(hub.opened("bkn", e) == [] for e in bkn_old)
    kasn_report = next(e for e in kasn_old if e["event_type"] == "ReportReceived")
    bkn_report = next(e for e in bkn_new if e["event_type"] == "ReportReceived")
    for reader, report_entry in (("kasn", kasn_report), ("bkn", bkn_report)):
        assert "reporter_identity" in {d["field"] for d in hub.opened(reader, report_entry)}
