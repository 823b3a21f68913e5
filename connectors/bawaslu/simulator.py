"""A stand-in for Bawaslu's case system, on both sides of the connectors.

As a client it posts signed reports and findings to the connector's webhook
(:meth:`BawasluSystem.post`, and :meth:`BawasluSystem.send`, which retries like Bawaslu's
outbox does while the intake is down). As a server it is Bawaslu's callback API: it records
each status update once per ``Idempotency-Key`` (201; 409 for a repeat), answers 401 to a
wrong bearer token and 400 to an update it cannot read, and now and then, by a seeded random
draw, answers 503 (nothing recorded) or records the update and then stalls past the client's
timeout (the response is lost; the retry meets a 409). ``offline()`` takes it off the network.

Signing is implemented here from the protocol, not imported from the connector, so the tests
check the connector against the protocol rather than against itself.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import random
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connectors.simulation import Answer, SimulatedJsonApi
from streams.domain.authority import load_authority_map
from streams.local.processes import free_port

log = logging.getLogger(__name__)

#: Path of Bawaslu's callback API.
CALLBACK_PATH = "/api/kawal/status-updates"
#: Path of the connector's webhook (as Bawaslu's integration settings hold it).
WEBHOOK_PATH = "/bawaslu/v1/posts"
#: Bawaslu's time zone (WIB): its system stamps local times with their offset.
WIB = timezone(timedelta(hours=7), "WIB")


class BawasluSystem(SimulatedJsonApi):
    """Bawaslu's case system: webhook sender and callback API.

    Args:
        webhook_url: The connector's webhook (``http://host:port/bawaslu/v1/posts``).
        secret: Secret shared with the webhook, for the HMAC signatures.
        token: Bearer token the callback API accepts.
        institution: The Bawaslu office this system belongs to.
        seed: Seed of the fault draws: the same seed and calls give the same faults.
        unavailable_rate: Share of callbacks answered 503 without recording.
        timeout_rate: Share of callbacks recorded and then left unanswered for
            ``stall_seconds`` (longer than the connector's timeout).
        stall_seconds: How long a stalled callback hangs.
        port: Port of the callback API (0: a free one).
    """

    def __init__(
        self,
        webhook_url: str,
        secret: str,
        token: str,
        *,
        institution: str = "bawaslu.33",
        seed: int = 0,
        unavailable_rate: float = 0.0,
        timeout_rate: float = 0.0,
        stall_seconds: float = 2.0,
        port: int = 0,
    ) -> None:
        super().__init__(port, "bawaslu-simulator")
        self.webhook_url = webhook_url
        self.secret = secret
        self.token = token
        self.institution = institution
        self.unavailable_rate = unavailable_rate
        self.timeout_rate = timeout_rate
        self.stall_seconds = stall_seconds
        self.updates: dict[str, dict[str, Any]] = {}
        self.attempts = 0
        self._faults = random.Random(seed)  # noqa: S311 - fault draws, not secrets
        self._lock = threading.Lock()
        self._web_pause: float | None = None
        self._web_handler: Callable[[str, str], None] | None = None

    def handle_web_reports(self, pause_seconds: float) -> BawasluSystem:
        """Let the officers handle each public portal report Bawaslu hears of from the hub.

        The portal's reports reach Bawaslu's system as status updates (a ``ReportReceived`` of
        channel ``WEB_FORM``): the officers then register, verify (proven) and refer each,
        ``pause_seconds`` apart, so that a reporter watching its tracking page sees it move.
        """
        self._web_pause = pause_seconds
        return self

    def handle_web_reports_with(self, handler: Callable[[str, str], None]) -> BawasluSystem:
        """Hand each report to ``handler`` (case id, case number), in a thread of its own.

        Each portal report, and each report another channel filed (an inspectorate's, one of
        BKN's portal) that the hub delivers to this office, the supervisor of its region.

        The demo's officers (:mod:`connectors.bawaslu.officers`) decide each by its plan.
        """
        self._web_handler = handler
        return self

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def callback_url(self) -> str:
        """Where the connector posts status updates."""
        return f"http://127.0.0.1:{self.port}{CALLBACK_PATH}"

    # -- the callback API -----------------------------------------------------------------

    def recorded(self, event_id: str) -> int:
        """How many times Bawaslu recorded the status update of ``event_id`` (0 or 1)."""
        with self._lock:
            return 1 if event_id in self.updates else 0

    def updates_of(self, case_id: str) -> list[dict[str, Any]]:
        """The status updates Bawaslu recorded of ``case_id``."""
        with self._lock:
            return [update for update in self.updates.values() if update["case_id"] == case_id]

    def answer(self, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """Bawaslu's answer to one status update (headers keyed by lower-case name)."""
        if path != CALLBACK_PATH:
            return 404, {"error": "not_found"}
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"error": "invalid_token", "message": "unknown bearer token"}
        with self._lock:
            self.attempts += 1
            draw = self._faults.random()
        if draw < self.unavailable_rate:
            return 503, {"error": "unavailable", "message": "case system busy; retry"}
        answer = self._record(headers.get("idempotency-key"), body)
        if draw < self.unavailable_rate + self.timeout_rate:
            self._stopping.wait(self.stall_seconds)  # recorded, but the answer comes too late
        return answer

    def _record(self, key: str | None, body: bytes) -> Answer:
        try:
            update = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 400, {"error": "invalid_update", "message": "not JSON"}
        if not isinstance(update, dict) or not {"event_id", "event_type", "case_id"} <= set(update):
            return 400, {"error": "invalid_update", "message": "event_id, event_type, case_id"}
        if key is None or key != update["event_id"]:
            return 400, {"error": "idempotency_key_mismatch", "message": "key must be event_id"}
        with self._lock:
            if key in self.updates:
                return 409, {"error": "already_recorded"}
            self.updates[key] = update
        self._handle_if_web_report(update)
        return 201, {"status": "recorded"}

    def _handle_if_web_report(self, update: dict[str, Any]) -> None:
        details = update.get("details")
        if (
            (self._web_pause is None and self._web_handler is None)
            or update["event_type"] != "ReportReceived"
            or not isinstance(details, dict)
            or not (details.get("channel") == "WEB_FORM" or _filed_elsewhere(update))
        ):
            return
        case = (str(update["case_id"]), str(details.get("case_number", "")))
        handle = self._web_handler or self._handle_web_report
        threading.Thread(target=handle, args=case, daemon=True).start()

    def _handle_web_report(self, case_id: str, number: str) -> None:
        # The portal's case keeps the id the hub gave it: every post names it.
        for step in (self.registration, self.verification, self.referral):
            if self._stopping.wait(self._web_pause or 0.0):
                return
            try:
                self.send(step(number, case_id=case_id))
            except RuntimeError as exc:  # names the post's id and the webhook's answer only
                log.warning("bawaslu-simulator: a portal report was left unhandled: %s", exc)
                return

    # -- the webhook sender ---------------------------------------------------------------

    def post(
        self,
        post: Mapping[str, Any] | bytes,
        *,
        signed_at: float | None = None,
        secret: str | None = None,
        signed: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Post once to the webhook; the status and JSON answer.

        Args:
            post: The post (a mapping, sent as JSON) or raw body bytes.
            signed_at: Unix time to sign at (default now).
            secret: Secret to sign with (default the shared one; a wrong one tests refusal).
            signed: False sends no signature headers at all.
            headers: Headers sent as given, over the computed ones (a tampered request).

        Raises:
            OSError: the webhook cannot be reached.
        """
        body = post if isinstance(post, bytes) else json.dumps(post).encode()
        sent = {"Content-Type": "application/json"}
        if signed:
            stamp = str(int(time.time() if signed_at is None else signed_at))
            key = (self.secret if secret is None else secret).encode()
            digest = hmac.new(key, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
            sent |= {"X-Bawaslu-Timestamp": stamp, "X-Bawaslu-Signature": f"v1={digest}"}
        sent |= headers or {}
        target = urlsplit(self.webhook_url)
        connection = http.client.HTTPConnection(target.hostname or "", target.port, timeout=10)
        try:
            connection.request("POST", target.path, body=body, headers=sent)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        return response.status, json.loads(raw) if raw else {}

    def send(
        self, post: Mapping[str, Any], attempts: int = 30, pause: float = 1.0
    ) -> dict[str, Any]:
        """Post until the webhook accepts (as Bawaslu's outbox retries); its answer.

        Raises:
            RuntimeError: not accepted after ``attempts`` tries, or refused for good (4xx).
        """
        for _ in range(attempts):
            try:
                status, answer = self.post(post)
            except OSError:
                status, answer = 0, {}
            if status == 202:
                return answer
            if 400 <= status < 500:
                raise RuntimeError(f"the webhook refused post {post['id']}: {answer}")
            time.sleep(pause)
        raise RuntimeError(f"the webhook did not accept post {post['id']}")

    # -- what Bawaslu's officers record ---------------------------------------------------

    def report(self, **overrides: Any) -> dict[str, Any]:
        """A public report of a new case."""
        now = _wib_now()
        return {
            "id": f"LP-{uuid.uuid4().hex[:12]}",
            "type": "report",
            "case_number": f"{uuid.uuid4().hex[:6]}/LP/PB/Prov/14.00/{now.year}",
            "occurred_at": now.isoformat(),
            "officer_ref": "pengawas-017",
            "election": f"pilkada-{now.year}",
            "region_code": "3374",
            "employing_agency": "ppk.3374",
            "violation": "ETHICS_SOCIAL_MEDIA_CAMPAIGN",
            "discovered_on": (now - timedelta(days=1)).date().isoformat(),
            "summary": "Shared a candidate pair's campaign material in an office chat group.",
            "subject": {"nip": "198501012010011001", "name": "Simulated Subject"},
            "reporter": {"ref": uuid.uuid4().hex[:10], "identity": "Simulated Reporter"},
        } | overrides

    def registration(self, case_number: str, **overrides: Any) -> dict[str, Any]:
        """The registration of a reported case."""
        now = _wib_now()
        return {
            "id": f"REG-{uuid.uuid4().hex[:12]}",
            "type": "registration",
            "case_number": case_number,
            "occurred_at": now.isoformat(),
            "officer_ref": "pengawas-017",
            "registration_number": f"{uuid.uuid4().hex[:4]}/Reg/LP/PB/Prov/14.00/{now.year}",
            "registered_on": now.date().isoformat(),
            "needed_more_information": False,
        } | overrides

    def rejection(self, case_number: str, **overrides: Any) -> dict[str, Any]:
        """The decision not to register a reported case."""
        now = _wib_now()
        return {
            "id": f"REJ-{uuid.uuid4().hex[:12]}",
            "type": "rejection",
            "case_number": case_number,
            "occurred_at": now.isoformat(),
            "officer_ref": "pengawas-017",
            "reason": "MATERIAL_REQUIREMENTS_NOT_MET",
            "explanation": "The report gives no account of events and no evidence.",
            "rejected_on": now.date().isoformat(),
        } | overrides

    def verification(
        self, case_number: str, *, proven: bool = True, **overrides: Any
    ) -> dict[str, Any]:
        """The verdict on a registered case."""
        now = _wib_now()
        return {
            "id": f"VER-{uuid.uuid4().hex[:12]}",
            "type": "verification",
            "case_number": case_number,
            "occurred_at": now.isoformat(),
            "officer_ref": "pengawas-017",
            "verdict": "PROVEN" if proven else "NOT_PROVEN",
            "violation": "DISCIPLINE_PARTISAN_SUPPORT",
            "verified_by": "ELECTION_SUPERVISOR",
            "completed_on": now.date().isoformat(),
            "assessment_reference": f"Kajian/{uuid.uuid4().hex[:6]}/{now.year}",
            "findings": "Posts on the official's public account campaigned for a candidate.",
        } | overrides

    def referral(self, case_number: str, **overrides: Any) -> dict[str, Any]:
        """The forwarding of a proven case to the recommending authority of today."""
        now = _wib_now()
        return {
            "id": f"REF-{uuid.uuid4().hex[:12]}",
            "type": "referral",
            "case_number": case_number,
            "occurred_at": now.isoformat(),
            "officer_ref": "pengawas-017",
            "to_authority": load_authority_map().authority_on(now),
            "referral_number": f"PP.01.02/{uuid.uuid4().hex[:6]}/{now.year}",
            "forwarded_on": now.date().isoformat(),
            "violation": "DISCIPLINE_PARTISAN_SUPPORT",
        } | overrides

    def case(self) -> list[dict[str, Any]]:
        """A whole case as Bawaslu handles it: report, registration, verification, referral."""
        report = self.report()
        number = report["case_number"]
        return [report, self.registration(number), self.verification(number), self.referral(number)]


def _filed_elsewhere(update: Mapping[str, Any]) -> bool:
    """Whether a report Bawaslu hears of was filed through a channel no Bawaslu office runs.

    An inspectorate's report, or one of BKN's portal: the region's Bawaslu registers it
    (Perbawaslu 7/2022). A report another Bawaslu office filed is that office's to handle.
    """
    source = update.get("source")
    if not isinstance(source, str) or not source:
        return False  # no sender named: nothing says another channel filed it
    return source != "bawaslu" and not source.startswith("bawaslu.")


def _wib_now() -> datetime:
    return datetime.now(WIB).replace(microsecond=0)


def demo_setup(root: Path) -> tuple[BawasluSystem, dict[str, dict[str, Any]]]:
    """Bawaslu's system for ``kawal up --demo``, started, and both connectors' configurations.

    The callback API fails now and then (seeded) so the demo shows retries. Once the
    connectors run, ``system.send(post)`` for each post of ``system.case()`` plays a case.

    Returns:
        The running system (``stop()`` it at the end) and, by connector name, the
        configuration of ``bawaslu-webhook`` and ``bawaslu-callback``.
    """
    webhook_port = free_port()
    system = BawasluSystem(
        webhook_url=f"http://127.0.0.1:{webhook_port}{WEBHOOK_PATH}",
        secret=secrets.token_hex(32),
        token=secrets.token_urlsafe(24),
        seed=2024,
        unavailable_rate=0.1,
        timeout_rate=0.05,
        stall_seconds=3.0,
    ).start()
    configs = {
        "bawaslu-webhook": {
            "institution": system.institution,
            "listen_port": webhook_port,
            "spool_dir": str(root / "bawaslu" / "spool"),
            "secret": system.secret,
        },
        "bawaslu-callback": {
            "institution": system.institution,
            "callback_url": system.callback_url,
            "token": system.token,
            "timeout_seconds": 1.0,
        },
    }
    return system, configs
