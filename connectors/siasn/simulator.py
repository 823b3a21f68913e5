"""A stand-in for SIASN's REST API (http.server in a thread), faults included.

Routes under ``/api/v1``, each a ``POST`` with a JSON body, a bearer token and an
``Idempotency-Key``:

* ``/neutrality-cases``: link a case to a civil servant (``case_ref``, ``nip``, ...);
  409 ``case_conflict`` if the case is linked to another NIP;
* ``/blocks``: block the case's civil servant's data; 404 ``case_unknown``, 409
  ``already_blocked`` when another block of the case is active;
* ``/sanctions``: record a sanction decree and lift the case's block; 404 ``case_unknown``,
  409 ``decree_conflict`` when the decree number is held with other content;
* ``/blocks/release``: lift the case's block, if any; 404 ``case_unknown``.

and one ``GET``, ``/blocks/changes?after=N&limit=M``: the rows of SIASN's block log
(:mod:`connectors.siasn.block_log`) numbered above ``N``, every block applied and lifted with
the case it was made for; 400 ``invalid_query`` when ``after`` or ``limit`` is not a number.

A key seen before answers 409 ``already_recorded`` (same request) or
``idempotency_key_reused`` (another one), and applies nothing. 401 for a wrong token, 422 for
a body that lacks a field. Now and then, by a seeded draw at configurable rates, a request
stalls past the client's timeout without being applied (``timeout_rate``), is applied and then
stalls, so its answer is lost and the retry meets ``already_recorded`` (``lost_response_rate``:
where most 409s come from in production), or fails with a 5xx (``error_rate``).
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from connectors.siasn.block_log import BlockLog
from connectors.simulation import Answer, SimulatedJsonApi
from schemas.field_formats import is_nip

API_ROOT = "/api/v1"


@dataclass
class Block:
    """A block of a civil servant's personnel data, for one case."""

    reference: str
    case_ref: str
    active: bool = True
    lifted_because: str | None = None


class SiasnApi(SimulatedJsonApi):
    """SIASN's API, as far as Kawal uses it.

    Args:
        token: The bearer token it accepts.
        seed: Seed of the fault draws: the same seed and requests give the same faults.
        timeout_rate: Share of requests that stall unapplied.
        lost_response_rate: Share of requests applied whose answer then stalls.
        error_rate: Share of requests answered 500, 502 or 503, unapplied.
        stall_seconds: How long a stalled request hangs (longer than the client's timeout).
        port: Port to listen on (0: a free one).
    """

    def __init__(
        self,
        token: str,
        *,
        seed: int = 0,
        timeout_rate: float = 0.0,
        lost_response_rate: float = 0.0,
        error_rate: float = 0.0,
        stall_seconds: float = 2.0,
        port: int = 0,
    ) -> None:
        super().__init__(port, "siasn-simulator")
        self.token = token
        self.rates = (timeout_rate, lost_response_rate, error_rate)
        self.stall_seconds = stall_seconds
        self.cases: dict[str, dict[str, Any]] = {}
        self.blocks: dict[str, Block] = {}
        self.sanctions: dict[str, dict[str, Any]] = {}
        self.decisions: dict[str, dict[str, Any]] = {}
        """The last objection or appeal decision on each decree: amended or annulled."""
        self.block_log = BlockLog()
        """Every block applied and lifted, as ``GET /blocks/changes`` serves it."""
        self.applied: Counter[str] = Counter()
        self.requests = 0
        self.faults: Counter[str] = Counter()
        """Faults served, by kind: ``timeout``, ``lost_response``, ``error``."""
        self._keys: dict[str, tuple[str, Answer]] = {}
        self._faults = random.Random(seed)  # noqa: S311 - fault draws, not secrets
        self._lock = threading.Lock()
        self._routes: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Any]], Answer]]] = {
            "/neutrality-cases": (("case_ref", "nip", "employing_agency"), self._link_case),
            "/blocks": (("case_ref", "reason"), self._block),
            "/sanctions": (("case_ref", "decree_number", "sanction_kind"), self._sanction),
            "/blocks/release": (("case_ref", "reason"), self._release),
            "/sanctions/decisions": (("case_ref", "decision", "decision_number"), self._decision),
        }

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The API root the connector is configured with."""
        return f"http://127.0.0.1:{self.port}{API_ROOT}"

    def effects(self, key: str) -> int:
        """How many writes SIASN applied under ``key`` (the event id)."""
        with self._lock:
            return self.applied[key]

    def block_by_hand(self, nip: str, agency: str) -> dict[str, Any]:
        """An operator blocks ``nip``'s data in SIASN's own screens, linked to no case.

        The block log then holds a row without ``case_ref``, which no event of a case can
        stand for: the row ``siasn-blocks`` dead-letters.
        """
        reference = f"BLK-{secrets.token_hex(4).upper()}"
        return self.block_log.append(
            {
                "change": "BLOCKED",
                "blocking_reference": reference,
                "case_ref": None,
                "nip": nip,
                "employing_agency": agency,
                "reason": "RECOMMENDATION_NOT_FOLLOWED_UP",
                "breach_event_id": None,
                "decree_number": None,
            }
        )

    # -- requests -------------------------------------------------------------------------

    def answer(self, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """SIASN's answer to one request (headers keyed by lower-case name)."""
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"error": "unauthorized"}
        route = self._routes.get(path.removeprefix(API_ROOT))
        if not path.startswith(API_ROOT) or route is None:
            return 404, {"error": "not_found"}
        fault, status = self._draw()
        if fault == "error":
            return status, {"error": "internal_error"}
        if fault == "timeout":  # the gateway gives up before SIASN applies anything
            self._stopping.wait(self.stall_seconds)
            return 504, {"error": "gateway_timeout"}
        answer = self._apply(path, headers.get("idempotency-key"), body, route)
        if fault == "lost_response":  # applied; the answer comes after the client gave up
            self._stopping.wait(self.stall_seconds)
        return answer

    def answer_get(self, path: str, headers: Mapping[str, str]) -> Answer:
        """SIASN's answer to a GET: only ``/blocks/changes`` is served."""
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"error": "unauthorized"}
        parts = urlsplit(path)
        if parts.path != f"{API_ROOT}/blocks/changes":
            return 404, {"error": "not_found"}
        query = parse_qs(parts.query)
        after, limit = query.get("after", ["0"])[-1], query.get("limit", ["100"])[-1]
        if not (after.isdigit() and limit.isdigit()):
            return 400, {"error": "invalid_query"}
        fault, status = self._draw()
        if fault == "error":
            return status, {"error": "internal_error"}
        if fault is not None:  # a read applies nothing: a stall is a stall
            self._stopping.wait(self.stall_seconds)
            return 504, {"error": "gateway_timeout"}
        return 200, {"changes": self.block_log.page(int(after), int(limit))}

    def _draw(self) -> tuple[str | None, int]:
        """The fault this request meets (None: none), and the status an error answers."""
        with self._lock:
            self.requests += 1
            draw, status = self._faults.random(), self._faults.choice((500, 502, 503))
            bound = 0.0
            for kind, rate in zip(("timeout", "lost_response", "error"), self.rates, strict=True):
                bound += rate
                if draw < bound:
                    self.faults[kind] += 1
                    return kind, status
        return None, status

    def _apply(
        self,
        path: str,
        key: str | None,
        body: bytes,
        route: tuple[tuple[str, ...], Callable[[dict[str, Any]], Answer]],
    ) -> Answer:
        if not key:
            return 400, {"error": "idempotency_key_required"}
        try:
            request = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 400, {"error": "malformed_json"}
        required, handler = route
        missing = [
            name for name in required if not isinstance(request, dict) or name not in request
        ]
        if missing:
            return 422, {"error": "invalid_request", "missing": missing}
        fingerprint = path + hashlib.sha256(body).hexdigest()
        with self._lock:
            if key in self._keys:
                seen, original = self._keys[key]
                if seen != fingerprint:
                    return 409, {"error": "idempotency_key_reused"}
                return 409, {"error": "already_recorded", "original": original[1]}
            answer = handler(request)
            if answer[0] < 300:
                self._keys[key] = (fingerprint, answer)
                self.applied[key] += 1
            return answer

    def _link_case(self, request: dict[str, Any]) -> Answer:
        if not is_nip(str(request["nip"])):
            return 422, {"error": "invalid_nip"}
        held = self.cases.get(request["case_ref"])
        if held is not None and held["nip"] != request["nip"]:
            return 409, {"error": "case_conflict"}
        self.cases[request["case_ref"]] = request
        return 201, {"case_ref": request["case_ref"], "status": "linked"}

    def _block(self, request: dict[str, Any]) -> Answer:
        case_ref = request["case_ref"]
        if case_ref not in self.cases:
            return 404, {"error": "case_unknown"}
        held = self.blocks.get(case_ref)
        if held is not None and held.active:
            return 409, {"error": "already_blocked", "blocking_reference": held.reference}
        block = Block(reference=f"BLK-{secrets.token_hex(4).upper()}", case_ref=case_ref)
        self.blocks[case_ref] = block
        self.block_log.blocked(block.reference, self.cases[case_ref], request)
        return 201, {"blocking_reference": block.reference}

    def _sanction(self, request: dict[str, Any]) -> Answer:
        case_ref = request["case_ref"]
        if case_ref not in self.cases:
            return 404, {"error": "case_unknown"}
        held = self.sanctions.get(request["decree_number"])
        if held is not None and held != request:
            return 409, {"error": "decree_conflict"}
        self.sanctions[request["decree_number"]] = request
        return 201, {
            "decree_number": request["decree_number"],
            **self._lift(case_ref, "SANCTION_IMPOSED", request["decree_number"]),
        }

    def _decision(self, request: dict[str, Any]) -> Answer:
        """An objection's or appeal's decision: the case's sanction amended or annulled."""
        case_ref = request["case_ref"]
        if case_ref not in self.cases:
            return 404, {"error": "case_unknown"}
        held = [n for n, sanction in self.sanctions.items() if sanction["case_ref"] == case_ref]
        if not held:
            return 409, {"error": "no_sanction"}
        if request["decision"] not in ("AMENDED", "OVERTURNED"):
            return 422, {"error": "invalid_request", "invalid": ["decision"]}
        decree = held[-1]
        self.decisions[decree] = request
        status = "ANNULLED" if request["decision"] == "OVERTURNED" else "AMENDED"
        return 201, {"decree_number": decree, "status": status}

    def _release(self, request: dict[str, Any]) -> Answer:
        if request["case_ref"] not in self.cases:
            return 404, {"error": "case_unknown"}
        return 201, self._lift(request["case_ref"], request["reason"])

    def _lift(self, case_ref: str, because: str, decree: str | None = None) -> dict[str, Any]:
        block = self.blocks.get(case_ref)
        if block is None or not block.active:
            return {"block_lifted": None}
        block.active, block.lifted_because = False, because
        self.block_log.unblocked(block.reference, self.cases[case_ref], because, decree)
        return {"block_lifted": block.reference}


def demo_setup(root: Path) -> tuple[SiasnApi, dict[str, dict[str, Any]]]:
    """SIASN for ``kawal up --demo``, started, and the configurations of its two connectors.

    It fails now and then (seeded), so the demo shows retries and a 409 after a lost answer.
    ``siasn`` writes BKN's feed into it; ``siasn-blocks`` reports the blocks it applied and
    lifted back to the hub.

    Returns:
        The running API (``stop()`` it at the end) and
        ``{"siasn": configuration, "siasn-blocks": configuration}``.
    """
    del root  # SIASN keeps its state in memory
    api = SiasnApi(
        secrets.token_urlsafe(24),
        seed=91,
        timeout_rate=0.03,
        lost_response_rate=0.05,
        error_rate=0.1,
        stall_seconds=3.0,
    ).start()
    config = {"institution": "bkn", "base_url": api.base_url, "token": api.token}
    return api, {
        "siasn": config | {"timeout_seconds": 1.0},
        "siasn-blocks": config | {"timeout_seconds": 1.0, "poll_seconds": 2.0},
    }
