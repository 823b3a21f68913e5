"""SIASN connector: the contract suite, and SIASN's conflicts, faults and personal data."""

from __future__ import annotations

import logging
import uuid
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from typing import Any

import pytest

from connectors.base import ConnectorConfig, FeedEntry, OutboundConnector
from connectors.contract import OutboundContract
from connectors.errors import ConnectorConfigError, PermanentError, TransientError
from connectors.host import build
from connectors.retry import GaveUp, RetryPolicy, with_retries
from connectors.siasn.simulator import SiasnApi
from connectors.signed_fixtures import feed_disclosures, feed_entry_record
from streams.domain.commitments import reveal
from tests import hubtools

TOKEN = "siasn-integration-token-0123"
NIP = "198501012010011001"


def deadline_breached(case_id: str, rule_id: str = "recommendation_follow_up") -> dict[str, Any]:
    return {
        "envelope": hubtools.envelope(case_id, "kawal", "DeadlineBreached"),
        "rule_id": rule_id,
        "legal_source": "configurable; 14 working days often quoted",
        "working_days": 14,
        "clock_started_at": datetime(2024, 11, 20, 9, 0, tzinfo=UTC),
        "due_at": datetime(2024, 12, 10, 17, 0, tzinfo=UTC),
        "breached_at": datetime(2024, 12, 11, 0, 0, tzinfo=UTC),
        "responsible_institution": "ppk.3374",
        "responsible_role": "PPK",
        "caused_by_event_id": str(uuid.uuid4()),
    }


def case_closed(case_id: str) -> dict[str, Any]:
    return {
        "envelope": hubtools.envelope(case_id, "bkn", "CaseClosed"),
        "closing_reason": "SANCTION_IMPOSED",
        "closed_on": date(2025, 1, 10),
        "final_sanction": None,
        "merged_into_case_id": None,
        "remarks": None,
    }


def siasn_case() -> list[tuple[str, dict[str, Any]]]:
    """What BKN's feed brings of one case that needs SIASN: report, breach, sanction, close."""
    report = hubtools.report("bawaslu")
    case_id = report["envelope"]["case_id"]
    return [
        ("ReportReceived", report),
        ("DeadlineBreached", deadline_breached(case_id)),
        ("SanctionImposed", hubtools.sanction(case_id)),
        ("CaseClosed", case_closed(case_id)),
    ]


class TestSiasnContract(OutboundContract):
    connector_name = "siasn"

    def start_system(self, tmp_path: Any) -> AbstractContextManager[Any]:
        return SiasnApi(TOKEN)

    def config(self, system: Any, tmp_path: Any) -> dict[str, Any]:
        return {
            "institution": "bkn",
            "base_url": system.base_url,
            "token": TOKEN,
            "timeout_seconds": 0.5,
        }

    def feed_events(self) -> list[tuple[str, dict[str, Any]]]:
        return siasn_case()

    def effects(self, system: Any, event_id: str) -> int:
        return system.effects(event_id)  # type: ignore[no-any-return]

    def unreachable(self, system: Any) -> AbstractContextManager[None]:
        return system.offline()  # type: ignore[no-any-return]


def _siasn(api: SiasnApi, **overrides: Any) -> OutboundConnector[ConnectorConfig]:
    config = {"institution": "bkn", "base_url": api.base_url, "token": TOKEN}
    connector = build("siasn", config | {"timeout_seconds": 0.3} | overrides)
    assert isinstance(connector, OutboundConnector)
    return connector


def _entries(
    connector: OutboundConnector[ConnectorConfig],
    events: list[tuple[str, dict[str, Any]]],
    withhold: frozenset[str] = frozenset(),
) -> list[FeedEntry]:
    """Feed entries as the runtime hands them over, without the ``withhold`` disclosures."""
    found = []
    for event_type, record in events:
        entry = feed_entry_record(connector.context, event_type, record, connector.institution)
        opened = feed_disclosures(connector.context, entry, connector.institution)
        shown = [d for d in opened if d["field"] not in withhold]
        event = reveal(connector.context.codec.decode(entry["event"]).record, shown)
        found.append(FeedEntry(entry=entry, event=event, event_type=event_type))
    return found


@pytest.fixture
def api() -> Any:
    with SiasnApi(TOKEN) as running:
        yield running


def test_the_case_is_linked_blocked_sanctioned_and_the_block_lifted(api: SiasnApi) -> None:
    connector = _siasn(api)
    report, breach, sanction, closed = _entries(connector, siasn_case())
    for entry in (report, breach):
        connector.deliver(entry)
    case = report.case_id
    assert api.cases[case]["nip"] == NIP
    assert api.blocks[case].active
    connector.deliver(sanction)
    assert not api.blocks[case].active
    assert api.blocks[case].lifted_because == "SANCTION_IMPOSED"
    assert api.sanctions[sanction.event["decree_number"]]["sanction_kind"] == (
        "ALLOWANCE_CUT_25_6_MONTHS"
    )
    connector.deliver(closed)  # nothing left to lift: still a success
    assert api.effects(closed.event_id) == 1


def test_a_follow_up_breach_after_a_late_sanction_blocks_nothing(api: SiasnApi) -> None:
    report = hubtools.report("bawaslu")
    case_id = report["envelope"]["case_id"]
    # The PPK's decree came after the due date, before the hub's timer looked: the hub records
    # the sanction, then the breach saying when the sanction came.
    late = deadline_breached(case_id) | {"met_at": datetime(2024, 12, 12, 3, 0, tzinfo=UTC)}
    events = [
        ("ReportReceived", report),
        ("SanctionImposed", hubtools.sanction(case_id)),
        ("DeadlineBreached", late),
    ]
    connector = _siasn(api)
    entries = _entries(connector, events)
    for entry in entries:
        connector.deliver(entry)

    assert case_id not in api.blocks
    assert api.effects(entries[2].event_id) == 0
    assert api.sanctions[entries[1].event["decree_number"]]["case_ref"] == case_id
    # Without met_at, the same breach still blocks: the PPK has not acted.
    [waiting] = _entries(connector, [("DeadlineBreached", deadline_breached(case_id))])
    connector.deliver(waiting)
    assert api.blocks[case_id].active


def test_entries_that_need_no_siasn_write_are_passed_over(api: SiasnApi) -> None:
    report = hubtools.report("bawaslu")
    case_id = report["envelope"]["case_id"]
    events = [
        ("ReportRegistered", hubtools.registration(case_id, "bawaslu")),
        ("RecommendationIssued", hubtools.recommendation(case_id)),
        ("DeadlineBreached", deadline_breached(case_id, rule_id="report_verification")),
    ]
    connector = _siasn(api)
    for entry in _entries(connector, events):
        connector.deliver(entry)
    assert api.requests == 0


def test_a_wrong_token_is_permanent_and_never_quoted(api: SiasnApi) -> None:
    connector = _siasn(api, token="expired-token-from-2023")
    with pytest.raises(PermanentError) as refused:
        connector.deliver(_entries(connector, siasn_case())[0])
    assert refused.value.reason_code == "siasn_unauthorized"
    assert "expired-token" not in refused.value.reason


def test_a_repeat_under_the_same_key_is_already_recorded(api: SiasnApi) -> None:
    connector = _siasn(api)
    report = _entries(connector, siasn_case())[0]
    connector.deliver(report)
    connector.deliver(report)  # SIASN answers 409 already_recorded: delivered
    assert (api.requests, api.effects(report.event_id)) == (2, 1)


def test_a_conflicting_write_is_permanent_with_a_reason_free_of_the_nip(
    api: SiasnApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    connector = _siasn(api)
    first = hubtools.report("bawaslu")
    other_nip = "197001012000121002"
    second = first | {"envelope": first["envelope"] | {"event_id": str(uuid.uuid4())}}
    second["subject_nip"] = other_nip  # the same case, another civil servant
    linked, conflicting = _entries(
        connector, [("ReportReceived", first), ("ReportReceived", second)]
    )
    connector.deliver(linked)
    with pytest.raises(PermanentError) as refused:
        connector.deliver(conflicting)
    assert refused.value.reason_code == "siasn_conflict"
    assert "another civil servant" in refused.value.reason
    for text in (refused.value.reason, caplog.text):
        assert NIP not in text
        assert other_nip not in text


def test_a_sanction_on_a_case_siasn_never_heard_of_is_permanent(api: SiasnApi) -> None:
    connector = _siasn(api)
    _, breach, sanction, closed = _entries(connector, siasn_case())
    for entry in (breach, sanction):
        with pytest.raises(PermanentError) as refused:
            connector.deliver(entry)
        assert refused.value.reason_code == "siasn_case_unknown"
        assert "register the case in SIASN" in refused.value.reason
    connector.deliver(closed)  # no case, so no block to release: nothing to do


def test_a_decree_number_held_for_another_case_is_a_conflict(api: SiasnApi) -> None:
    connector = _siasn(api)
    first, second = siasn_case(), siasn_case()
    second[2][1]["decree_number"] = first[2][1]["decree_number"]
    for events in (first, second):
        report, _, sanction, _ = _entries(connector, events)
        connector.deliver(report)
    connector.deliver(_entries(connector, first)[2])
    with pytest.raises(PermanentError) as refused:
        connector.deliver(sanction)
    assert refused.value.reason_code == "siasn_conflict"
    assert "decree" in refused.value.reason


def test_a_report_without_its_nip_disclosed_is_permanent(api: SiasnApi) -> None:
    connector = _siasn(api)
    report = _entries(connector, siasn_case(), withhold=frozenset({"subject_nip"}))[0]
    with pytest.raises(PermanentError) as refused:
        connector.deliver(report)
    assert refused.value.reason_code == "nip_withheld"
    assert api.requests == 0


def test_a_nip_in_fullwidth_digits_never_reaches_siasn(api: SiasnApi) -> None:
    events = siasn_case()
    events[0][1]["subject_nip"] = "".join(chr(ord(digit) + 0xFEE0) for digit in NIP)
    connector = _siasn(api)
    report = _entries(connector, events)[0]
    with pytest.raises(PermanentError) as refused:
        connector.deliver(report)
    assert refused.value.reason_code == "invalid_nip"
    assert api.requests == 0


def test_the_request_timeout_is_enforced() -> None:
    # The stall outlasts any run of the test: only the client's timeout can end the request
    # (the server's own answer after it would be a 504, which the match below refuses).
    with SiasnApi(TOKEN, timeout_rate=1.0, stall_seconds=3600.0) as api:
        connector = _siasn(api, timeout_seconds=0.3)
        report = _entries(connector, siasn_case())[0]
        with pytest.raises(TransientError, match=r"did not answer within 0\.3 s"):
            connector.deliver(report)
        assert api.effects(report.event_id) == 0


def test_timeouts_5xx_and_lost_answers_end_in_one_write_each_and_no_nip_in_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    faulty = SiasnApi(
        TOKEN, seed=3, timeout_rate=0.15, lost_response_rate=0.2, error_rate=0.2, stall_seconds=1.0
    )
    policy = RetryPolicy(attempts=15, initial_seconds=0.01, max_seconds=0.02)
    transient: list[str] = []

    def attempt(connector: OutboundConnector[ConnectorConfig], entry: FeedEntry) -> None:
        try:
            connector.deliver(entry)
        except TransientError as exc:
            transient.append(str(exc))
            raise

    with faulty as api:
        connector = _siasn(api)
        entries = [e for _ in range(3) for e in _entries(connector, siasn_case())]
        for entry in entries:
            what = f"siasn: delivering event {entry.event_id}"
            outcome = with_retries(lambda e=entry: attempt(connector, e), policy, what=what)  # type: ignore[misc]
            assert not isinstance(outcome, GaveUp)
        assert all(api.effects(entry.event_id) == 1 for entry in entries)
        assert set(api.faults) == {"timeout", "lost_response", "error"}
    assert any("did not answer" in reason for reason in transient)
    assert any("HTTP 5" in reason for reason in transient)
    # Each retry is a warning naming the event, why, and when the next try comes.
    retries = [r.getMessage() for r in caplog.records if r.name == "connectors.retry"]
    assert len(retries) == len(transient)
    assert all(line.startswith("siasn: delivering event ") for line in retries)
    assert any(
        " failed (SIASN answered HTTP 5" in line and "; try 2 of 15 in " in line for line in retries
    )
    for text in [caplog.text, *transient]:
        assert NIP not in text


def test_configuration_is_validated() -> None:
    with pytest.raises(ConnectorConfigError) as invalid:
        build("siasn", {"institution": "kasn", "base_url": "not a url", "token": TOKEN})
    for key in ("institution", "base_url"):
        assert key in str(invalid.value)
    assert TOKEN not in str(invalid.value)


def appeal_decided(case_id: str, decision: str, amended: dict[str, str] | None) -> dict[str, Any]:
    return {
        "envelope": hubtools.envelope(case_id, "bpasn", "AppealDecided"),
        "remedy_event_id": str(uuid.uuid4()),
        "decided_by": "BPASN",
        "decision": decision,
        "decision_number": "BPASN/7/2025",
        "decided_on": date(2025, 2, 3),
        "amended_sanction": amended,
        "considerations": None,
    }


@pytest.mark.parametrize(
    ("decision", "amended"),
    [
        ("OVERTURNED", None),
        ("AMENDED", {"level": "MEDIUM", "kind": "ALLOWANCE_CUT_25_12_MONTHS"}),
    ],
)
def test_a_decision_on_appeal_reaches_the_discipline_record(
    api: SiasnApi, decision: str, amended: dict[str, str] | None
) -> None:
    # An annulled sanction stayed in SIASN: the feed's AppealDecided was passed over.
    report, _, sanction, _ = siasn_case()
    case_id = report[1]["envelope"]["case_id"]
    connector = _siasn(api)
    entries = _entries(
        connector, [report, sanction, ("AppealDecided", appeal_decided(case_id, decision, amended))]
    )

    for entry in entries:
        connector.deliver(entry)

    decree = entries[1].event["decree_number"]
    assert api.decisions[decree]["decision"] == decision
    assert api.decisions[decree]["sanction_kind"] == (amended or {}).get("kind")
    assert api.effects(entries[2].event_id) == 1


def test_an_upheld_sanction_needs_no_siasn_write(api: SiasnApi) -> None:
    report, _, sanction, _ = siasn_case()
    case_id = report[1]["envelope"]["case_id"]
    connector = _siasn(api)
    upheld = ("AppealDecided", appeal_decided(case_id, "UPHELD", None))
    entries = _entries(connector, [report, sanction, upheld])

    for entry in entries:
        connector.deliver(entry)

    assert api.decisions == {}
    assert api.effects(entries[2].event_id) == 0


def test_a_decision_on_a_sanction_siasn_does_not_hold_is_permanent_and_says_why(
    api: SiasnApi,
) -> None:
    report, _, _, _ = siasn_case()
    case_id = report[1]["envelope"]["case_id"]
    connector = _siasn(api)
    linked, decided = _entries(
        connector, [report, ("AppealDecided", appeal_decided(case_id, "OVERTURNED", None))]
    )
    connector.deliver(linked)

    with pytest.raises(PermanentError) as refused:
        connector.deliver(decided)

    assert "record the PPK's decree (its SanctionImposed) first" in refused.value.reason
    assert NIP not in refused.value.reason
