"""KASN's cases after its dissolution: BKN acts on them, KASN no longer does (DOMAIN.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas.catalog import default_catalog
from streams.domain.authority import load_authority_map
from streams.domain.authorization import authorize
from streams.domain.institutions import Institution
from streams.domain.lifecycle import CaseLifecycle, advance, start
from streams.domain.reasons import Reason
from tests.hubtools import recommendation, referral, registration, report, verification

AUTHORITIES = load_authority_map()
CATALOG = default_catalog()
KASN = Institution("kasn", "recommending_authority", "KASN")
BKN = Institution("bkn", "personnel_agency", "BKN")
SUPERVISOR = Institution("bawaslu.33", "election_supervisor", "Bawaslu Jawa Tengah")
#: Before and after the transfer of KASN's functions on 2024-10-01 (data/authority.toml).
BEFORE = datetime(2024, 9, 10, 3, tzinfo=UTC)
AFTER = datetime(2024, 11, 11, 3, tzinfo=UTC)


def dated(record: dict[str, Any], moment: datetime) -> dict[str, Any]:
    record["envelope"]["event_time"] = moment
    return record


def verified_before_the_transfer() -> tuple[CaseLifecycle, str]:
    """A KASN case, proven by the supervisor before the transfer and not yet referred."""
    first = dated(report(), BEFORE)
    case_id: str = first["envelope"]["case_id"]
    case = start(first, AUTHORITIES.authority_on(BEFORE))
    for event_type, record in (
        ("ReportRegistered", registration(case_id)),
        ("VerificationCompleted", verification(case_id)),
    ):
        case = advance(case, event_type, dated(record, BEFORE))
    return case, case_id


def acting(case: CaseLifecycle, moment: datetime) -> str:
    return AUTHORITIES.acting_on(datetime.fromisoformat(case.reported_at), moment)


def test_a_case_reported_before_the_transfer_is_kasn_s_until_the_transfer() -> None:
    case, _ = verified_before_the_transfer()

    assert case.authority == "kasn"
    assert acting(case, BEFORE) == "kasn"
    assert acting(case, AFTER) == "bkn"


def test_an_event_dated_before_its_case_was_reported_brings_no_earlier_authority_back() -> None:
    case = start(dated(report(), AFTER), AUTHORITIES.authority_on(AFTER))

    assert acting(case, BEFORE) == "bkn"


def test_after_the_transfer_a_kasn_case_is_referred_to_bkn_not_kasn() -> None:
    case, case_id = verified_before_the_transfer()
    authority = acting(case, AFTER)
    to_kasn = dated(referral(case_id, authority="kasn"), AFTER)
    to_bkn = dated(referral(case_id, authority="bkn"), AFTER)

    refused = authorize(CATALOG, SUPERVISOR, "ReferralForwarded", to_kasn, case, authority)

    assert refused is not None
    assert refused.reason is Reason.UNAUTHORIZED
    assert "refer it to bkn" in refused.detail
    assert authorize(CATALOG, SUPERVISOR, "ReferralForwarded", to_bkn, case, authority) is None


def test_a_referral_dated_before_the_transfer_still_goes_to_kasn() -> None:
    case, case_id = verified_before_the_transfer()
    to_kasn = dated(referral(case_id, authority="kasn"), BEFORE)

    assert authorize(CATALOG, SUPERVISOR, "ReferralForwarded", to_kasn, case, "kasn") is None


def test_kasn_cannot_recommend_after_its_dissolution_and_bkn_takes_the_case_over() -> None:
    case, case_id = verified_before_the_transfer()
    case = advance(case, "ReferralForwarded", dated(referral(case_id, authority="kasn"), BEFORE))
    authority = acting(case, AFTER)
    by_kasn = dated(recommendation(case_id, "kasn"), AFTER)
    by_bkn = dated(recommendation(case_id, "bkn"), AFTER)

    refused = authorize(CATALOG, KASN, "RecommendationIssued", by_kasn, case, authority)

    assert refused is not None
    assert refused.reason is Reason.UNAUTHORIZED
    assert "bkn" in refused.detail
    assert "on the event's date" in refused.detail
    assert authorize(CATALOG, BKN, "RecommendationIssued", by_bkn, case, authority) is None


def test_kasn_s_recommendation_dated_before_its_dissolution_is_taken() -> None:
    case, case_id = verified_before_the_transfer()
    case = advance(case, "ReferralForwarded", dated(referral(case_id, authority="kasn"), BEFORE))
    by_kasn = dated(recommendation(case_id, "kasn"), BEFORE)

    assert authorize(CATALOG, KASN, "RecommendationIssued", by_kasn, case, "kasn") is None
