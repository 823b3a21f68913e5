"""Bawaslu connectors: the contract suite, and what is particular to a signed webhook."""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from connectors.base import (
    Connector,
    ConnectorConfig,
    FeedEntry,
    InboundConnector,
    OutboundConnector,
)
from connectors.bawaslu.intake import SIGNATURE_HEADER as SIGNATURE
from connectors.bawaslu.intake import TIMESTAMP_HEADER as TIMESTAMP
from connectors.bawaslu.intake import WEBHOOK_PATH, Intake, WebhookListenerError, signature
from connectors.bawaslu.simulator import BawasluSystem
from connectors.contract import InboundContract, OutboundContract
from connectors.errors import ConnectorConfigError, PermanentError, TransientError
from connectors.host import build
from connectors.pseudonyms import case_pseudonym, pseudonym_key
from connectors.retry import GaveUp, RetryPolicy, with_retries
from connectors.signed_fixtures import feed_disclosures, feed_entry_record
from streams.domain.authority import load_authority_map
from streams.domain.authorization import authorize
from streams.domain.commitments import reveal
from streams.domain.institutions import load_institutions
from streams.domain.lifecycle import advance, check_transition, start
from streams.domain.parties import parties_of_report
from streams.local.processes import free_port
from tests import hubtools

SECRET = "s3cret-shared-with-bawaslu-0123456789abcdef"
TOKEN = "callback-token-0123456789"
NIP = "198501012010011001"


@dataclass
class WebhookBed:
    """Bawaslu's system, and the deployed connector whose intake it posts to."""

    bawaslu: BawasluSystem
    config: dict[str, Any]
    deployed: Connector[ConnectorConfig]

    @property
    def spool(self) -> Path:
        return Path(self.config["spool_dir"]) / "intake.db"


@contextmanager
def webhook_bed(tmp_path: Path, **overrides: Any) -> Iterator[WebhookBed]:
    port = free_port()
    config = {
        "institution": "bawaslu.33",
        "listen_port": port,
        "spool_dir": str(tmp_path / "spool"),
        "secret": SECRET,
        "spool_busy_seconds": 0.2,
    } | overrides
    url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    with BawasluSystem(webhook_url=url, secret=SECRET, token=TOKEN) as bawaslu:
        deployed = build("bawaslu-webhook", config)
        try:
            yield WebhookBed(bawaslu, config, deployed)
        finally:
            deployed.close()


@contextmanager
def spool_locked(path: Path) -> Iterator[None]:
    """Another process (a backup, say) holds the spool exclusively."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        db.execute("ROLLBACK")
        db.close()


class TestWebhookContract(InboundContract):
    connector_name = "bawaslu-webhook"

    def start_system(self, tmp_path: Path) -> AbstractContextManager[Any]:
        return webhook_bed(tmp_path)

    def config(self, system: Any, tmp_path: Path) -> dict[str, Any]:
        return dict(system.config)

    def add_records(self, system: Any, count: int) -> None:
        for _ in range(count):
            assert system.bawaslu.post(system.bawaslu.report())[0] == 202

    def add_malformed(self, system: Any) -> None:
        bad_nip = system.bawaslu.report(subject={"nip": "12345", "name": "Someone"})
        assert system.bawaslu.post(bad_nip)[0] == 202  # signed and JSON: refused when mapped

    def unreachable(self, system: Any) -> AbstractContextManager[None]:
        return spool_locked(system.spool)


@pytest.fixture
def bed(tmp_path: Path) -> Iterator[WebhookBed]:
    with webhook_bed(tmp_path) as running:
        yield running


def _inbound(bed: WebhookBed, **overrides: Any) -> InboundConnector[ConnectorConfig]:
    connector = build("bawaslu-webhook", bed.config | overrides)
    assert isinstance(connector, InboundConnector)
    return connector


def test_unsigned_or_wrongly_signed_or_stale_posts_are_refused_with_401(bed: WebhookBed) -> None:
    report = bed.bawaslu.report()
    refusals = {
        "missing_signature": bed.bawaslu.post(report, signed=False),
        "invalid_signature": bed.bawaslu.post(report, secret="not-the-shared-secret"),
        "stale_timestamp": bed.bawaslu.post(report, signed_at=time.time() - 6 * 60),
        # A superscript one is a digit to str.isdigit, and no number to int.
        "invalid_timestamp": bed.bawaslu.post(report, headers={TIMESTAMP: "\u00b9"}),
    }
    for code, (status, answer) in refusals.items():
        assert (status, answer["error"]) == (401, code)
        assert answer["message"]
    connector = _inbound(bed)
    assert connector.read(None, 10) == []
    connector.close()


def test_a_captured_signature_cannot_be_replayed_under_a_new_timestamp(bed: WebhookBed) -> None:
    body = json.dumps(bed.bawaslu.report()).encode()
    captured_at = str(int(time.time()) - 10 * 60)
    captured = signature(SECRET.encode(), captured_at, body)
    assert bed.bawaslu.post(body, headers={TIMESTAMP: captured_at, SIGNATURE: captured})[0] == 401
    now = str(int(time.time()))
    status, answer = bed.bawaslu.post(body, headers={TIMESTAMP: now, SIGNATURE: captured})
    assert (status, answer["error"]) == (401, "invalid_signature")


def test_malformed_json_is_refused_with_400(bed: WebhookBed) -> None:
    cases = {
        b'{"id": "LP-1", "type": ': "malformed_json",
        b"[" * 50_000 + b"]" * 50_000: "malformed_json",
        b'{"id": "LP-3", "type": "report", "summary": "\\udfff"}': "malformed_json",
        b"[1, 2]": "not_an_object",
        b'{"type": "report"}': "missing_id",
        b'{"id": "LP-2"}': "missing_type",
    }
    for body, code in cases.items():
        status, answer = bed.bawaslu.post(body)
        assert (status, answer["error"]) == (400, code)


def test_an_accepted_post_is_durable_before_its_202(tmp_path: Path) -> None:
    with webhook_bed(tmp_path) as bed:
        status, answer = bed.bawaslu.post(bed.bawaslu.report(id="LP-durable"))
        assert (status, answer) == (202, {"intake_id": 1, "status": "accepted"})
        config = bed.config
    # Listener stopped and connector gone (as after a crash): the post is still there.
    with webhook_bed(tmp_path, listen_port=config["listen_port"]) as again:
        connector = _inbound(again)
        assert [r.source_id for r in connector.read(None, 10)] == ["LP-durable"]
        connector.close()


def test_a_repeated_post_is_a_duplicate_and_a_changed_one_a_conflict(bed: WebhookBed) -> None:
    report = bed.bawaslu.report()
    first = bed.bawaslu.post(report)
    assert bed.bawaslu.post(report) == (
        202,
        {"intake_id": first[1]["intake_id"], "status": "duplicate"},
    )
    status, answer = bed.bawaslu.post(report | {"summary": "Edited afterwards."})
    assert (status, answer["error"]) == (409, "id_conflict")
    connector = _inbound(bed)
    assert len(connector.read(None, 10)) == 1
    connector.close()


def test_a_locked_spool_answers_503_so_bawaslu_retries(bed: WebhookBed) -> None:
    bed.bawaslu.post(bed.bawaslu.report())
    report = bed.bawaslu.report()
    with spool_locked(bed.spool):
        status, answer = bed.bawaslu.post(report)
    assert (status, answer["error"]) == (503, "spool_unavailable")
    assert bed.bawaslu.send(report)["status"] == "accepted"


def test_a_whole_case_passes_the_hubs_rules_in_order(bed: WebhookBed) -> None:
    for post in bed.bawaslu.case():
        assert bed.bawaslu.post(post)[0] == 202
    connector = _inbound(bed)
    events = [e for r in connector.read(None, 10) for e in connector.to_events(r)]
    assert [e.event_type for e in events] == [
        "ReportReceived",
        "ReportRegistered",
        "VerificationCompleted",
        "ReferralForwarded",
    ]
    catalog = connector.context.catalog
    sender = next(i for i in load_institutions() if i.id == "bawaslu.33")
    authority = parties_of_report(load_authority_map(), events[0].record).authority
    state = start(events[0].record, authority)
    assert len({e.record["envelope"]["case_id"] for e in events}) == 1
    for event in events:
        assert authorize(catalog, sender, event.event_type, event.record, state, authority) is None
        if event.event_type != "ReportReceived":
            assert check_transition(state, event.event_type, event.record) is None
            state = advance(state, event.event_type, event.record)
    connector.close()


def test_refusals_name_the_field_never_personal_data(bed: WebhookBed) -> None:
    posts = [
        bed.bawaslu.report(subject={"nip": "NIP-99-LEAK", "name": "Budi Santoso"}),
        bed.bawaslu.report(occurred_at="2024-11-02T09:30:00"),  # no offset
        bed.bawaslu.report(violation="CAMPAIGNING"),
        bed.bawaslu.verification("001/LP", verdict="MAYBE"),
        bed.bawaslu.referral("001/LP", forwarded_on="11/11/2024"),
        bed.bawaslu.report(type="complaint"),
        # Fullwidth and Arabic-Indic digits are digits to Python's \\d, not to SIASN.
        bed.bawaslu.report(subject={"nip": "\uff11" * 18, "name": "Budi Santoso"}),
        bed.bawaslu.report(region_code="33\u0667\u0664"),
        bed.bawaslu.report(election="pilkada-2024\n"),
        # actor_ref travels in clear to every party: no name or NIP goes there.
        bed.bawaslu.report(officer_ref="Budi Santoso"),
        bed.bawaslu.report(officer_ref="198503152010011002"),
    ]
    for post in posts:
        bed.bawaslu.post(post)
    connector = _inbound(bed)
    reasons = []
    for record in connector.read(None, 20):
        with pytest.raises(PermanentError) as refused:
            connector.to_events(record)
        reasons.append((refused.value.reason_code, refused.value.reason))
    assert [code for code, _ in reasons] == [
        *["invalid_post"] * 5,
        "unknown_post_type",
        *["invalid_post"] * 5,
    ]
    assert "subject.nip" in reasons[0][1]
    assert "occurred_at" in reasons[1][1]
    assert "'subject.nip' is not an 18-digit NIP" in reasons[6][1]
    assert "'region_code' is not a Kemendagri region code" in reasons[7][1]
    assert "'election' is not an election's name as text" in reasons[8][1]
    for officer in reasons[9:]:
        assert "'officer_ref' is not a pseudonymous reference" in officer[1]
        assert "198503152010011002" not in officer[1]
    for _, reason in reasons:
        assert "NIP-99-LEAK" not in reason
        assert "Budi" not in reason
    connector.close()


def test_a_supervisors_own_finding_has_no_reporter(bed: WebhookBed) -> None:
    bed.bawaslu.post(bed.bawaslu.report(reporter=None))
    connector = _inbound(bed)
    (event,) = connector.to_events(connector.read(None, 1)[0])
    assert event.record["reporter_identity"] is None
    assert event.record["reporter_ref"] == "finding:bawaslu.33"
    assert event.record["channel"] == "SUPERVISOR_FINDING"
    connector.close()


def test_a_report_says_its_channel_when_bawaslu_does(bed: WebhookBed) -> None:
    bed.bawaslu.post(bed.bawaslu.report(channel="HOTLINE"))
    bed.bawaslu.post(bed.bawaslu.report())
    bed.bawaslu.post(bed.bawaslu.report(channel="CARRIER_PIGEON"))
    connector = _inbound(bed)
    hotline, unstated, unknown = connector.read(None, 3)

    assert connector.to_events(hotline)[0].record["channel"] == "HOTLINE"
    assert connector.to_events(unstated)[0].record["channel"] == "UNKNOWN"
    with pytest.raises(PermanentError, match="field 'channel' is not one of WEB_FORM"):
        connector.to_events(unknown)
    connector.close()


def test_one_reporter_gets_an_unlinkable_pseudonym_in_each_case(bed: WebhookBed) -> None:
    reporter = {"ref": "sigap-4711", "identity": "Same Person"}
    for _ in range(2):
        bed.bawaslu.post(bed.bawaslu.report(reporter=reporter))
    connector = _inbound(bed)
    records = connector.read(None, 2)
    refs = [connector.to_events(record)[0].record["reporter_ref"] for record in records]
    again = connector.to_events(records[0])[0].record["reporter_ref"]
    connector.close()

    assert refs[0] != refs[1]  # two cases: nothing joins them
    assert again == refs[0]  # the same post always maps to the same pseudonym
    assert all(ref.startswith("reporter:") and "sigap-4711" not in ref for ref in refs)
    secret = pseudonym_key(SECRET.encode())
    first_case = connector.to_events(records[0])[0].record["envelope"]["case_id"]
    assert case_pseudonym(secret, first_case, "sigap-4711") == refs[0]  # the office recomputes


def test_forwarded_bodies_are_erased_after_retention_yet_repeats_recognised(
    bed: WebhookBed,
) -> None:
    report = bed.bawaslu.report()
    bed.bawaslu.post(report)
    connector = _inbound(bed, retention_days=0)
    records = connector.read(None, 10)
    connector.acknowledge(records)
    connector.expire(datetime.now(UTC))
    assert connector.read(None, 10) == []
    with sqlite3.connect(bed.spool) as db:
        assert db.execute("SELECT body, sealed FROM posts").fetchall() == [(None, None)]
    assert bed.bawaslu.post(report)[1]["status"] == "duplicate"
    connector.close()


def test_the_health_endpoint_needs_no_signature(bed: WebhookBed) -> None:
    url = bed.bawaslu.webhook_url.replace(WEBHOOK_PATH, "/health")
    with urllib.request.urlopen(url, timeout=5) as response:
        assert json.loads(response.read()) == {"status": "ok"}


def _raw_post(bed: WebhookBed, head: bytes) -> bytes:
    """The webhook's answer to a request whose head is written byte for byte.

    The webhook closes the connection after such an answer: read until it does.
    """
    target = urlsplit(bed.bawaslu.webhook_url)
    with socket.create_connection((target.hostname or "", target.port or 0), timeout=10) as conn:
        conn.sendall(b"POST " + WEBHOOK_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\n" + head)
        return b"".join(iter(lambda: conn.recv(4096), b""))


def test_a_length_in_other_digits_is_answered_411(bed: WebhookBed) -> None:
    # The header is read as Latin-1: a superscript two is a digit to isdigit(), not to int().
    answer = _raw_post(bed, b"Content-Length: \xb2\r\n\r\n")

    assert answer.startswith(b"HTTP/1.1 411 ")
    assert b'"length_required"' in answer


def test_a_defect_answers_500_and_is_logged_without_the_post(
    bed: WebhookBed, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def failing(self: Intake, headers: Mapping[str, str], body: bytes) -> Any:
        raise RuntimeError(f"defect while reading {body!r}")

    monkeypatch.setattr(Intake, "handle", failing)
    with caplog.at_level(logging.ERROR, logger="connectors.bawaslu.intake"):
        status, answer = bed.bawaslu.post(bed.bawaslu.report(subject={"nip": NIP, "name": "X"}))

    assert (status, answer["error"]) == (500, "internal_error")
    (logged,) = [r for r in caplog.records if r.name == "connectors.bawaslu.intake"]
    assert logged.getMessage() == "webhook post failed with RuntimeError"
    assert NIP not in logged.getMessage()


def test_configuration_errors_name_the_keys(tmp_path: Path) -> None:
    with pytest.raises(ConnectorConfigError) as invalid:
        build(
            "bawaslu-webhook",
            {"institution": "bkn", "listen_port": 0, "spool_dir": str(tmp_path), "secret": "x"},
        )
    message = str(invalid.value)
    for key in ("institution", "listen_port", "secret"):
        assert key in message
    assert "x'" not in message  # the secret is never echoed


def test_a_port_serving_another_spool_is_refused(bed: WebhookBed, tmp_path: Path) -> None:
    with pytest.raises(WebhookListenerError, match="own listen_port"):
        build("bawaslu-webhook", bed.config | {"spool_dir": str(tmp_path / "other")})


# -- bawaslu-callback ---------------------------------------------------------------------


def callback_events() -> list[tuple[str, dict[str, Any]]]:
    report = hubtools.report("bawaslu.33")
    case_id = report["envelope"]["case_id"]
    return [
        ("ReportReceived", report),
        ("ReportRegistered", hubtools.registration(case_id)),
        ("VerificationCompleted", hubtools.verification(case_id)),
        ("SanctionImposed", hubtools.sanction(case_id)),
    ]


class TestCallbackContract(OutboundContract):
    connector_name = "bawaslu-callback"

    def start_system(self, tmp_path: Path) -> AbstractContextManager[Any]:
        return BawasluSystem("http://127.0.0.1:9/unused", SECRET, TOKEN)

    def config(self, system: Any, tmp_path: Path) -> dict[str, Any]:
        return {
            "institution": "bawaslu.33",
            "callback_url": system.callback_url,
            "token": TOKEN,
            "timeout_seconds": 0.5,
        }

    def feed_events(self) -> list[tuple[str, dict[str, Any]]]:
        return callback_events()

    def effects(self, system: Any, event_id: str) -> int:
        return system.recorded(event_id)  # type: ignore[no-any-return]

    def unreachable(self, system: Any) -> AbstractContextManager[None]:
        return system.offline()  # type: ignore[no-any-return]


def _callback(system: BawasluSystem, **overrides: Any) -> OutboundConnector[ConnectorConfig]:
    config = {
        "institution": "bawaslu.33",
        "callback_url": system.callback_url,
        "token": TOKEN,
        "timeout_seconds": 0.3,
    } | overrides
    connector = build("bawaslu-callback", config)
    assert isinstance(connector, OutboundConnector)
    return connector


def _entries(
    connector: OutboundConnector[ConnectorConfig], withhold: frozenset[str] = frozenset()
) -> list[FeedEntry]:
    """Feed entries as the runtime hands them over, without the ``withhold`` disclosures."""
    found = []
    for event_type, record in callback_events():
        entry = feed_entry_record(connector.context, event_type, record, connector.institution)
        opened = feed_disclosures(connector.context, entry, connector.institution)
        shown = [d for d in opened if d["field"] not in withhold]
        event = reveal(connector.context.codec.decode(entry["event"]).record, shown)
        found.append(FeedEntry(entry=entry, event=event, event_type=event_type))
    return found


def test_a_wrong_token_is_permanent_and_never_quoted() -> None:
    with BawasluSystem("http://127.0.0.1:9/unused", SECRET, TOKEN) as system:
        connector = _callback(system, token="stale-token-from-last-year")
        with pytest.raises(PermanentError) as refused:
            connector.deliver(_entries(connector)[0])
        assert refused.value.reason_code == "callback_unauthorized"
        assert "stale-token" not in refused.value.reason
        assert system.attempts == 0


def test_a_wrong_callback_path_is_permanent() -> None:
    with BawasluSystem("http://127.0.0.1:9/unused", SECRET, TOKEN) as system:
        connector = _callback(system, callback_url=system.callback_url + "/v0")
        with pytest.raises(PermanentError) as refused:
            connector.deliver(_entries(connector)[0])
        assert refused.value.reason_code == "callback_rejected"
        assert "not_found" in refused.value.reason


def test_503s_and_timeouts_are_retried_into_exactly_one_record() -> None:
    faulty = BawasluSystem(
        "http://127.0.0.1:9/unused",
        SECRET,
        TOKEN,
        seed=7,
        unavailable_rate=0.3,
        timeout_rate=0.2,
        stall_seconds=1.0,
    )
    policy = RetryPolicy(attempts=12, initial_seconds=0.01, max_seconds=0.02)
    transient: list[str] = []

    def attempt(connector: OutboundConnector[ConnectorConfig], entry: FeedEntry) -> None:
        try:
            connector.deliver(entry)
        except TransientError as exc:
            transient.append(str(exc))
            raise

    with faulty as system:
        connector = _callback(system)
        entries = _entries(connector) * 2  # delivered twice, as after a redelivery
        for entry in entries:
            outcome = with_retries(lambda e=entry: attempt(connector, e), policy)  # type: ignore[misc]
            assert not isinstance(outcome, GaveUp)
        for entry in entries:
            assert system.recorded(entry.event_id) == 1
    assert any("HTTP 503" in reason for reason in transient)
    assert any("did not answer within" in reason for reason in transient)


def test_a_status_update_carries_only_disclosed_personal_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with BawasluSystem("http://127.0.0.1:9/unused", SECRET, TOKEN) as system:
        connector = _callback(system)
        report = _entries(connector, withhold=frozenset({"reporter_identity"}))[0]
        connector.deliver(report)
        update = system.updates[report.event_id]
    assert update["seq"] == 1
    assert update["hash"] == report.entry["hash"]
    assert update["details"]["subject_nip"] == NIP  # Bawaslu is entitled to it
    assert "reporter_identity" not in update["details"]  # withheld by the hub: not sent
    assert NIP not in caplog.text


def _status_update(bawaslu: BawasluSystem, update: dict[str, Any]) -> int:
    request = urllib.request.Request(
        bawaslu.callback_url,
        json.dumps(update).encode(),
        {
            "Authorization": f"Bearer {TOKEN}",
            "Idempotency-Key": update["event_id"],
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(answer.status)


def _received(case_id: str, channel: str, number: str) -> dict[str, Any]:
    return {
        "event_id": f"{case_id}-{channel}",
        "event_type": "ReportReceived",
        "case_id": case_id,
        "details": {"channel": channel, "case_number": number},
    }


def test_the_demo_officers_handle_a_report_of_the_public_portal(bed: WebhookBed) -> None:
    # In the demo, a report sent through the portal moves on, so its tracking page does.
    bed.bawaslu.handle_web_reports(pause_seconds=0.0)
    portal_case = "6f1c1e7e-3a52-5b0e-9a43-0d6b0a3f2a11"
    assert _status_update(bed.bawaslu, _received(portal_case, "WEB_FORM", "WEB/2026/AB12")) == 201
    other = "0d3b8a52-7f0e-5a8c-8e8e-5c1d8e7b6a22"
    assert _status_update(bed.bawaslu, _received(other, "HOTLINE", "33/LP/1")) == 201
    connector = _inbound(bed)
    events: list[Any] = []
    deadline = time.monotonic() + 30
    while len(events) < 3 and time.monotonic() < deadline:
        events = [e for r in connector.read(None, 10) for e in connector.to_events(r)]
        time.sleep(0.1)
    connector.close()

    assert [e.event_type for e in events] == [
        "ReportRegistered",
        "VerificationCompleted",
        "ReferralForwarded",
    ]
    assert {e.record["envelope"]["case_id"] for e in events} == {portal_case}
