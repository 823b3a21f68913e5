"""Helpers for tests that drive a real hub: start a worker, publish, wait, read the DLQ."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec, CodecError
from schemas.envelope import envelope as make_envelope
from schemas.identity import case_id_for
from streams.audit.store import AuditRow, AuditStore
from streams.audit.tokens import IssuedToken, TokenStore
from streams.audit.trail import Directory, trail_view
from streams.broker.dead_letters import opened_payload
from streams.broker.endpoint import parse_broker_url
from streams.broker.provision import provision_topics
from streams.broker.publisher import EventPublisher
from streams.domain.authority import load_authority_map
from streams.domain.disclosure_policy import load_disclosure_policy
from streams.domain.entries import EntryProblem, open_feed_disclosures
from streams.domain.hub_sealing import hub_sealing_key
from streams.domain.institutions import load_institutions
from streams.domain.keyring import KeyRing
from streams.domain.keys import load_key_registry
from streams.domain.lifecycle import CaseLifecycle, advance, start
from streams.domain.principals import PrincipalRole
from streams.domain.signed_events import encode_signed
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.local.processes import ChildProcess, free_port
from streams.settings import Settings
from streams.topics import DLQ, all_topics, inbound_topic, outbound_topic
from streams.vault.data_keys import DataKeyVault
from streams.vault.entries import unvault
from streams.vault.kek_source import load_kek_ring

WAIT_SECONDS = 60.0
#: Longest wait for a hub process started by a test to be healthy, s: a guard against a hang
#: only. A worker's Python imports take 3 s of CPU; with the two cores shared by a dozen busy
#: processes, one logged its first line 60 s after it was spawned, and joined its group 7 s on.
START_SECONDS = 180.0
#: KAWAL_HTTP_IDLE_SECONDS of the hubs started here: short, so a test of a connection that
#: never finishes its request waits little for the drop.
HUB_IDLE_SECONDS = 2.0
#: Settings of hub processes that a test kills and restarts: tansu holds each group join for
#: half the consumer session timeout, and a group notices a killed member only once all of it
#: has passed, so 2 s rather than the local 6 s brings every start, restart and take-over 2 to
#: 4 s sooner. Heartbeats go every third of it, on the consumer's own thread.
QUICK_REJOIN_ENV = {"KAWAL_SESSION_TIMEOUT": "2"}


def envelope(case_id: str, source: str, event_type: str) -> dict[str, Any]:
    """A fresh envelope for an event of ``source``."""
    return make_envelope(
        event_id=str(uuid.uuid4()),
        case_id=case_id,
        event_type=event_type,
        event_time=datetime.now(UTC),
        source=source,
        actor_ref=f"actor:{source}:test",
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )


def report(source: str = "bawaslu.33", number: str | None = None) -> dict[str, Any]:
    """A ReportReceived of a new case."""
    number = number or f"LP/{uuid.uuid4().hex[:10]}"
    return {
        "envelope": envelope(case_id_for(source, number), source, "ReportReceived"),
        "case_number": number,
        "election": "pilkada-2024",
        "region_code": "3374",
        "employing_agency": "ppk.3374",
        "violation": "ETHICS_SOCIAL_MEDIA_CAMPAIGN",
        "discovered_on": date(2024, 11, 1),
        "summary": "Shared campaign material.",
        "subject_nip": "198501012010011001",
        "subject_name": "Test Subject",
        "reporter_ref": "reporter:" + uuid.uuid4().hex[:24],
        "reporter_identity": "Test Reporter",
    }


def signed_report(codec: AvroCodec, ring: KeyRing, source: str = "bawaslu.33") -> bytes:
    """A new case's ReportReceived as ``source``'s connector publishes it, keys from ``ring``."""
    record = report(source)
    moment = record["envelope"]["event_time"]
    key, hub = ring.signing_key(source, moment), hub_sealing_key(ring.registry, moment)
    return encode_signed(codec.catalog, codec, key, "ReportReceived", record, hub)


def registration(case_id: str, source: str = "bawaslu.33") -> dict[str, Any]:
    """A ReportRegistered for ``case_id``."""
    return {
        "envelope": envelope(case_id, source, "ReportRegistered"),
        "registration_number": f"Reg/{uuid.uuid4().hex[:8]}",
        "registered_on": date(2024, 11, 4),
        "needed_more_information": False,
    }


def verification(
    case_id: str, source: str = "bawaslu.33", *, proven: bool = True
) -> dict[str, Any]:
    """A VerificationCompleted for ``case_id``."""
    return {
        "envelope": envelope(case_id, source, "VerificationCompleted"),
        "verdict": "PROVEN" if proven else "NOT_PROVEN",
        "violation": "DISCIPLINE_PARTISAN_SUPPORT",
        "verified_by": "ELECTION_SUPERVISOR",
        "completed_on": date(2024, 11, 10),
        "assessment_reference": f"Kajian/{uuid.uuid4().hex[:8]}",
        "findings": "Campaigned for a candidate pair on social media.",
    }


def referral(case_id: str, source: str = "bawaslu.33", authority: str = "bkn") -> dict[str, Any]:
    """A ReferralForwarded of ``case_id`` to ``authority``."""
    return {
        "envelope": envelope(case_id, source, "ReferralForwarded"),
        "to_authority": authority,
        "referral_number": f"PP/{uuid.uuid4().hex[:8]}",
        "forwarded_on": date(2024, 11, 11),
        "violation": "DISCIPLINE_PARTISAN_SUPPORT",
    }


def until_referral(case_id: str, source: str = "bawaslu.33") -> list[tuple[str, dict[str, Any]]]:
    """The supervisor's steps after a report: registration, verification, referral."""
    return [
        ("ReportRegistered", registration(case_id, source)),
        ("VerificationCompleted", verification(case_id, source)),
        ("ReferralForwarded", referral(case_id, source)),
    ]


def referred(hub: RunningHub) -> dict[str, Any]:
    """A new case's report, taken through ``hub`` up to its referral to the authority."""
    first = report()
    for event_type, record in [("ReportReceived", first), *until_referral(case_of(first))]:
        hub.step(event_type, record)
    return first


def case_of(record: dict[str, Any]) -> str:
    """The case id of an event record."""
    return str(record["envelope"]["case_id"])


def recommendation(case_id: str, authority: str = "bkn") -> dict[str, Any]:
    """A proven RecommendationIssued for ``case_id``."""
    return {
        "envelope": envelope(case_id, authority, "RecommendationIssued"),
        "authority": authority,
        "proven": True,
        "violation": "DISCIPLINE_PARTISAN_SUPPORT",
        "sanction_level": "MEDIUM",
        "sanction_kind": "ALLOWANCE_CUT_25_6_MONTHS",
        "follow_up_days": 14,
    }


def recommended_case() -> tuple[CaseLifecycle, str]:
    """A case of region 3374, employer ppk.3374, recommended by BKN a medium sanction; its id."""
    first = report()
    case_id: str = first["envelope"]["case_id"]
    case = start(first, "bkn")
    for event_type, record in [
        *until_referral(case_id),
        ("RecommendationIssued", recommendation(case_id)),
    ]:
        case = advance(case, event_type, record)
    return case, case_id


def sanction(case_id: str, source: str = "ppk.3374") -> dict[str, Any]:
    """A SanctionImposed for ``case_id``."""
    return {
        "envelope": envelope(case_id, source, "SanctionImposed"),
        "decree_number": f"800/{uuid.uuid4().hex[:6]}/2024",
        "sanction_level": "MEDIUM",
        "sanction_kind": "ALLOWANCE_CUT_25_6_MONTHS",
        "effective_on": date(2025, 1, 1),
    }


def worker_process(
    home: Path, broker_url: str, web_port: int, extra_env: dict[str, str] | None = None
) -> ChildProcess:
    """``kawal worker`` as a child process with its own home and web port."""
    return hub_process("worker", home, broker_url, web_port, extra_env)


def sink_process(
    home: Path, broker_url: str, sink_port: int, extra_env: dict[str, str] | None = None
) -> ChildProcess:
    """``kawal sink`` as a child process writing the audit store of ``home``."""
    return hub_process("sink", home, broker_url, sink_port, extra_env)


@contextmanager
def running_sink(
    home: Path, broker_url: str, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[ChildProcess, str]]:
    """``kawal sink`` of ``home`` on a free port, once healthy: it and its URL; then stopped."""
    port = free_port()
    sink = sink_process(home, broker_url, port, extra_env)
    sink.start()
    try:
        wait_healthy(f"http://127.0.0.1:{port}", sink)
        yield sink, f"http://127.0.0.1:{port}"
    finally:
        sink.stop(20)


def hub_process(
    command: str, home: Path, broker_url: str, port: int, extra_env: dict[str, str] | None = None
) -> ChildProcess:
    """``kawal COMMAND`` (worker or sink) with its own home and HTTP port (and more settings)."""
    env = dict(os.environ)
    env.update(
        KAWAL_HOME=str(home),
        KAWAL_BROKER_URL=broker_url,
        KAWAL_WEB_PORT=str(port),
        KAWAL_SINK_PORT=str(port),
        KAWAL_LOG_LEVEL="info",
        KAWAL_DEADLINE_CHECK_SECONDS="1",
        KAWAL_HTTP_IDLE_SECONDS=str(HUB_IDLE_SECONDS),
        KAWAL_DEADLINES_FILE=str(Path(__file__).parent / "data" / "deadlines.toml"),
    )
    env.update(extra_env or {})
    return ChildProcess(
        command, [sys.executable, "-m", "streams.cli", command], home / f"{command}.log", env=env
    )


def http_get(url: str, token: str | None = None) -> tuple[int, bytes]:
    """Status and body of a GET (errors included), with a bearer token if given."""
    status, _, body = http_request(url, token)
    return status, body


def http_request(
    url: str, token: str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of a GET (errors included)."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), dict(response.headers), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), dict(exc.headers), bytes(exc.read())


def problem_of(status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """The RFC 9457 problem document of an error answer, its shape checked."""
    assert headers.get("Content-Type", "").startswith("application/problem+json"), headers
    found: dict[str, Any] = json.loads(body)
    assert set(found) == {"type", "title", "status", "detail", "reason"}, found
    assert found["status"] == status
    assert found["type"] == f"urn:kawal:problem:{found['reason']}"
    assert found["title"]
    assert found["detail"]
    return found


def wait_healthy(base_url: str, worker: ChildProcess, timeout: float = START_SECONDS) -> None:
    """Wait for the worker's /health to answer 200."""
    wait_for_health(base_url, lambda: worker.alive, lambda: worker.log_tail(40), timeout)


def metric_value(base_url: str, series: str) -> float:
    """The value of ``series`` (name and labels) on ``base_url``/metrics; 0 if it is absent."""
    status, body = http_get(f"{base_url}/metrics")
    assert status == 200
    found = re.search(rf"^{re.escape(series)} (\S+)$", body.decode(), re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def wait_stored(store: AuditStore, entries: int, writer: ChildProcess) -> None:
    """Wait until ``store`` holds ``entries`` entries; fail with ``writer``'s log.

    ``writer`` may just have been started: the wait has room for its start.
    """
    deadline = time.monotonic() + START_SECONDS
    while store.count() < entries:
        assert time.monotonic() < deadline, f"{store.count()} of {entries}\n{writer.log_tail(30)}"
        time.sleep(0.2)


def wait_for_health(
    base_url: str, alive: Callable[[], bool], output: Callable[[], str], timeout: float
) -> None:
    """Wait for ``base_url``/health to answer 200 while ``alive()``; fail with ``output()``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert alive(), f"exited before it was healthy:\n{output()}"
        try:
            if http_get(f"{base_url}/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"not healthy in {timeout} s:\n{output()}")


@dataclass
class RunningHub:
    """A worker and an audit sink on a real broker, the audit store and a publisher."""

    bootstrap: list[str]
    base_url: str
    sink_url: str
    store: AuditStore
    publisher: EventPublisher
    worker: ChildProcess
    sink: ChildProcess
    codec: AvroCodec
    #: KAWAL_HOME of the worker and the sink: its keys, store and logs.
    home: Path

    def stop(self) -> None:
        """Stop the worker and the sink; release the publisher and the store."""
        try:
            self.publisher.close()
            self.store.close()
        finally:
            self.worker.stop(20)
            self.sink.stop(20)

    def publish(self, event_type: str, record: dict[str, Any]) -> None:
        """Publish and wait for the broker's acknowledgement."""
        self.publisher.publish(event_type, record)
        self.publisher.flush()

    def signed(self, event_type: str, record: dict[str, Any]) -> bytes:
        """``record`` signed by its source, as the publisher sends it."""
        envelope = record["envelope"]
        key = self.publisher.keyring.signing_key(envelope["source"], envelope["event_time"])
        hub = hub_sealing_key(self.publisher.keyring.registry, envelope["event_time"])
        return encode_signed(self.codec.catalog, self.codec, key, event_type, record, hub)

    def opened(self, institution: str, entry: dict[str, Any]) -> list[dict[str, str]]:
        """The disclosures of a feed entry, as ``institution``'s connector opens them."""
        found = open_feed_disclosures(
            self.codec.catalog, self.publisher.keyring, institution, entry
        )
        assert not isinstance(found, EntryProblem), found
        return found

    def kept(self, row: AuditRow) -> list[dict[str, str]]:
        """The disclosures the store keeps of ``row``, opened with its case's data key."""
        settings = Settings(home=self.home)
        vault = DataKeyVault.open_existing(settings.effective_vault_url, load_kek_ring(settings))
        try:
            key = vault.keys_for([row.case_id], create=False)[row.case_id]
        finally:
            vault.close()
        return unvault(self.codec.catalog, key, row.case_id, row.hash, row.vaulted_disclosures)

    def letter_payload(self, letter: dict[str, Any]) -> bytes:
        """The record a dead letter keeps, opened with the hub's key (as ``kawal dlq replay``)."""
        return opened_payload(letter, self.publisher.keyring)

    def event_id_in(self, letter: dict[str, Any]) -> str | None:
        """The event id of a dead letter's record, signed or bare; None for anything else.

        The record is sealed to the hub: it is opened with the hub's key, as replay does.
        """
        try:
            record = self.codec.decode(self.letter_payload(letter)).record
            if "signature" in record and "event" in record:  # a kawal.SignedEvent
                record = self.codec.decode(record["event"]).record
        except CodecError:
            return None  # an unknown schema, or an oversized record's letter (no payload)
        envelope = record.get("envelope")
        return str(envelope["event_id"]) if envelope else None

    def step(
        self, event_type: str, record: dict[str, Any], received_at: datetime | None = None
    ) -> list[AuditRow]:
        """Publish one more event of a case and wait until the trail has it.

        ``received_at`` is the record's timestamp, for a scenario set in the future: the
        embedded broker keeps its producer's (docs/broker-security.md), so the event arrives
        as if then.
        """
        case_id = record["envelope"]["case_id"]
        before = len(self.store.trail(case_id))
        if received_at is None:
            self.publish(event_type, record)
        else:
            self._send_at(event_type, record, received_at)
        return self.wait_trail(case_id, before + 1)

    def _send_at(self, event_type: str, record: dict[str, Any], received_at: datetime) -> None:
        envelope = record["envelope"]
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        try:
            producer.send(
                inbound_topic(envelope["source"]),
                key=envelope["case_id"].encode(),
                value=self.signed(event_type, record),
                timestamp_ms=round(received_at.timestamp() * 1000),
            ).get(30)
        finally:
            producer.close()

    def open_case(self, source: str = "bawaslu.33", at: datetime | None = None) -> str:
        """A reported, registered, verified and referred case; its id.

        ``at`` dates every step and its record then (a case of the past), else now.
        """
        first = report(source)
        case_id: str = first["envelope"]["case_id"]
        for event_type, record in [("ReportReceived", first), *until_referral(case_id, source)]:
            if at is not None:
                record["envelope"]["event_time"] = at
            self.step(event_type, record, at)
        return case_id

    def ignored_case(self, days: int = 60) -> str:
        """A case referred and recommended ``days`` ago, never followed up; its id.

        Its PPK's follow-up clock ran out long ago: the deadline timer breaches it (a sixth
        entry). The recommendation is recorded then too: a clock of the PPK starts no earlier
        than the hub recorded the event that starts it.
        """
        then = datetime.now(UTC) - timedelta(days=days)
        case_id = self.open_case(at=then)
        ignored = recommendation(case_id)
        ignored["envelope"]["event_time"] = then
        self.step("RecommendationIssued", ignored, then)
        return case_id

    def wait_trail(
        self, case_id: str, entries: int, timeout: float = WAIT_SECONDS
    ) -> list[AuditRow]:
        """Wait until the case has at least ``entries`` rows in the store."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.store.trail(case_id)
            if len(rows) >= entries:
                return rows
            time.sleep(0.2)
        raise AssertionError(
            f"case has {len(self.store.trail(case_id))} of {entries} entries after {timeout} s"
            f"\n{self.worker.log_tail(30)}\n{self.sink.log_tail(30)}"
        )

    def token(
        self,
        principal: str,
        role: PrincipalRole = PrincipalRole.INSTITUTION,
        expires_at: datetime | None = None,
    ) -> IssuedToken:
        """A bearer token of ``principal`` in the hub's store (valid for a day by default)."""
        now = datetime.now(UTC)
        expires = expires_at or now + timedelta(days=1)
        # An already expired token is issued as of an hour before its expiry.
        issued_at = min(now, expires - timedelta(hours=1))
        known = {inst.id for inst in load_institutions()}
        if role is PrincipalRole.INSTITUTION:
            # Lets a test hold a token of an institution the hub's registry does not list.
            known.add(principal)
        return TokenStore(self.store.engine).issue(principal, role, expires, known, issued_at)

    def operator_token(self) -> str:
        """A bearer token of an operator: every case, every personal-data field withheld."""
        return self.token("ops.tests", PrincipalRole.OPERATOR).secret

    def trail_json(self, case_id: str, token: str | None = None) -> dict[str, Any]:
        """``GET /cases/{case_id}/trail`` with ``token``, else as an operator (the public view)."""
        status, body = http_get(
            f"{self.base_url}/cases/{case_id}/trail", token or self.operator_token()
        )
        assert status == 200, body
        result: dict[str, Any] = json.loads(body)
        return result

    def dead_letters(
        self,
        source_topic: str,
        matching: Callable[[dict[str, Any]], bool] = lambda _letter: True,
        timeout: float = WAIT_SECONDS,
    ) -> list[dict[str, Any]]:
        """DeadLetter records from ``source_topic`` that ``matching`` accepts (from the start).

        Reads until one matches: kawal.dlq holds every letter of the session, so stopping at
        the first letter of the topic could stop before the one looked for.
        """
        return self.read(
            DLQ, lambda r: r["source_topic"] == source_topic and matching(r), timeout, 1
        )

    def receipts(
        self, institution: str, event_id: str | None, timeout: float = WAIT_SECONDS
    ) -> list[dict[str, Any]]:
        """Receipts on ``institution``'s outbound feed about ``event_id``."""
        return self.read(
            outbound_topic(institution), lambda r: r.get("event_id") == event_id, timeout
        )

    def read(
        self,
        topic: str,
        keep: Callable[[dict[str, Any]], bool],
        timeout: float = WAIT_SECONDS,
        at_least: int = 1,
    ) -> list[dict[str, Any]]:
        """Decoded records of ``topic`` (from its start) that ``keep`` accepts."""
        consumer = KafkaConsumer(
            topic,
            bootstrap_servers=self.bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and len(found) < at_least:
                for records in consumer.poll(timeout_ms=500).values():
                    decoded = [self.codec.decode(record.value).record for record in records]
                    found += [record for record in decoded if keep(record)]
        finally:
            consumer.close()
        return found

    def case_feed(
        self, institution: str, case_id: str, at_least: int, timeout: float = 60
    ) -> list[dict[str, Any]]:
        """Trail entries of ``case_id`` on ``institution``'s outbound feed."""
        return self.read(
            outbound_topic(institution),
            lambda r: "prev_hash" in r and r["case_id"] == case_id,
            timeout=timeout,
            at_least=at_least,
        )


def start_hub(
    broker_url: str,
    home: Path,
    audit_db_url: str | None = None,
    worker_env: dict[str, str] | None = None,
    hub_env: dict[str, str] | None = None,
) -> RunningHub:
    """``kawal worker`` and ``kawal sink`` on ``broker_url`` with their own ``home`` and ports.

    The home's keys are made where missing and the topics provisioned; returns once both
    answer ``/health`` (stopped again if they do not). The audit store is SQLite in ``home``
    unless ``audit_db_url`` names another (``KAWAL_AUDIT_DB_URL``); ``worker_env`` adds
    worker settings, ``hub_env`` settings of both.
    """
    bootstrap = parse_broker_url(broker_url).bootstrap
    settings = Settings(home=home, audit_db_url=audit_db_url)
    ensure_local_keys(settings)
    provision_topics(bootstrap, all_topics(load_institutions(), settings.partitions))
    web_port, sink_port = free_port(), free_port()
    store_env = {"KAWAL_AUDIT_DB_URL": audit_db_url} if audit_db_url else {}
    store_env |= hub_env or {}
    worker = worker_process(home, broker_url, web_port, store_env | (worker_env or {}))
    sink = sink_process(home, broker_url, sink_port, store_env)
    worker.start()
    sink.start()
    codec = default_codec()
    hub = RunningHub(
        bootstrap,
        f"http://127.0.0.1:{web_port}",
        f"http://127.0.0.1:{sink_port}",
        AuditStore(settings.audit_url),
        EventPublisher(bootstrap, codec, keyring_of(settings)),
        worker,
        sink,
        codec,
        home,
    )
    try:
        wait_healthy(hub.base_url, worker)
        wait_healthy(hub.sink_url, sink)
    except BaseException:
        hub.stop()
        raise
    return hub


def default_codec() -> AvroCodec:
    """A codec over the bundled schemas."""
    return AvroCodec(default_catalog())


@dataclass
class UpProcess:
    """A ``kawal up`` child process with its home, ports and output file."""

    process: subprocess.Popen[bytes]
    home: Path
    web_port: int
    sink_port: int
    broker_port: int
    output: Path

    @property
    def base_url(self) -> str:
        """Base URL of its HTTP server."""
        return f"http://127.0.0.1:{self.web_port}"

    def text(self) -> str:
        """Everything it printed so far."""
        return self.output.read_text(errors="replace")

    def children(self) -> list[int]:
        """Pids of its direct children (storage, broker, worker, sink)."""
        pids: list[int] = []
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            pids += [int(pid) for pid in (task / "children").read_text().split()]
        return pids

    def wait_healthy(self, timeout: float = START_SECONDS) -> None:
        """Wait for /health to answer 200 while the process runs."""
        wait_for_health(self.base_url, lambda: self.process.poll() is None, self.text, timeout)

    def stop(self, timeout: float) -> int:
        """SIGTERM it and wait; SIGKILL it if it has not stopped within ``timeout`` seconds.

        Its children die with it (``PR_SET_PDEATHSIG``), so even a hub that hangs on SIGTERM
        leaves no broker, worker or port behind for the tests that follow.

        Returns:
            Its exit code.

        Raises:
            subprocess.TimeoutExpired: it did not stop on SIGTERM in time (it is killed anyway).
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def up_env(home: Path, web_port: int, broker_port: int, storage_port: int) -> dict[str, str]:
    """Environment of a ``kawal up`` on its own home and ports."""
    env = dict(os.environ)
    env.pop("KAWAL_BROKER_URL", None)
    env.update(
        KAWAL_HOME=str(home),
        KAWAL_WEB_PORT=str(web_port),
        KAWAL_SINK_PORT=str(free_port()),
        KAWAL_EMBEDDED_BROKER_PORT=str(broker_port),
        KAWAL_EMBEDDED_STORAGE_PORT=str(storage_port),
        # The demo's reporting portal (only with the embedded storage).
        KAWAL_LAPOR_PORT=str(free_port()),
        # The demo connectors' metrics: two `kawal up --demo` at once must not share it.
        KAWAL_CONNECTOR_METRICS_PORT=str(free_port()),
    )
    return env


def start_up(
    home: Path, env: dict[str, str], *args: str, name: str = "up", own_group: bool = False
) -> UpProcess:
    """Start ``kawal up ARGS`` with output to a file in ``home``'s parent.

    ``own_group`` starts it in a process group of its own, as a terminal runs a command: a
    signal to that group is what Ctrl-C sends.
    """
    output = home.parent / f"{home.name}-{name}.out"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "up", *args],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            process_group=0 if own_group else None,
        )
    return UpProcess(
        process,
        home,
        int(env["KAWAL_WEB_PORT"]),
        int(env["KAWAL_SINK_PORT"]),
        int(env["KAWAL_EMBEDDED_BROKER_PORT"]),
        output,
    )


def pid_running(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def institution_view(
    store: AuditStore, home: Path, case_id: str, vault: DataKeyVault, institution: str
) -> dict[str, Any]:
    """``institution``'s trail view of ``case_id`` in ``store``, opened with the hub's vault.

    The keys and rules are those of the hub whose KAWAL_HOME is ``home``.
    """
    catalog = default_catalog()
    view = trail_view(
        store,
        AvroCodec(catalog),
        catalog,
        load_disclosure_policy(None, catalog),
        case_id,
        institution,
        Directory(load_institutions(), load_authority_map()),
        load_key_registry(Settings(home=home).key_registry_file),
        vault,
    )
    assert view is not None
    return view
