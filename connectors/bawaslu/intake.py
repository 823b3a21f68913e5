"""The webhook intake Bawaslu's case system posts to, and the spool behind it.

The protocol, as Bawaslu's system implements it:

* ``POST /bawaslu/v1/posts``, body a JSON object with at least ``id`` (Bawaslu's own id of
  the post, unique) and ``type`` (``report``, ``registration``, ``rejection``,
  ``verification`` or ``referral``; see :mod:`connectors.bawaslu.mapping`);
* header ``X-Bawaslu-Timestamp``: when the post was signed, in Unix seconds;
* header ``X-Bawaslu-Signature``: ``v1=`` and the hex HMAC-SHA256, keyed with the shared
  secret, of the timestamp, a ``.`` and the body bytes. The timestamp is signed with the body,
  so a captured post cannot be replayed under a fresh timestamp; a post signed more than
  ``max_skew_seconds`` (5 minutes) away from now is refused.

Answers are JSON. 202 ``{"intake_id": n, "status": "accepted"}`` once the post is on disk in
the spool (``"duplicate"`` when the same id came before with the same body); 401 a missing or
wrong signature or timestamp; 400 not a JSON object, or no ``id`` or ``type``; 409 the id was
accepted before with another body; 411/413 no or too large a body; 503 the spool cannot be
written now (retry). Every error is ``{"error": code, "message": what to do}``.
``GET /health`` answers 200 without authentication.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, cast

from connectors.bawaslu.sealing import SpoolSealer
from connectors.bawaslu.spool import PostIdConflictError, Spool, SpoolUnavailableError
from connectors.errors import ConnectorError
from connectors.json_input import read_json
from schemas.field_formats import is_number

log = logging.getLogger(__name__)

#: Path Bawaslu's system posts to.
WEBHOOK_PATH = "/bawaslu/v1/posts"
#: Header holding the Unix time (seconds) the post was signed at.
TIMESTAMP_HEADER = "X-Bawaslu-Timestamp"
#: Header holding ``v1=<hex HMAC-SHA256>`` of ``<timestamp>.<body>``.
SIGNATURE_HEADER = "X-Bawaslu-Signature"
SIGNATURE_SCHEME = "v1="

#: An HTTP status and the JSON object answered with it.
Answer = tuple[int, dict[str, Any]]


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The ``X-Bawaslu-Signature`` value of ``body`` signed at ``timestamp``."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return SIGNATURE_SCHEME + digest


def _error(status: int, code: str, message: str) -> Answer:
    return status, {"error": code, "message": message}


@dataclass(frozen=True)
class IntakeSettings:
    """Where the intake listens, what it trusts and where it spools."""

    host: str
    port: int
    spool_dir: Path
    secret: bytes
    max_skew_seconds: int
    max_body_bytes: int
    busy_seconds: float
    spool_key: bytes
    """The key posts are sealed under in the spool (:mod:`connectors.bawaslu.sealing`)."""

    def __repr__(self) -> str:
        return f"IntakeSettings({self.host}:{self.port}, spool {self.spool_dir})"  # no secret


class Intake:
    """Checks, spools and answers one post; no HTTP in here."""

    def __init__(
        self, settings: IntakeSettings, spool: Spool, clock: Callable[[], float] = time.time
    ) -> None:
        self.settings = settings
        self.spool = spool
        self.clock = clock

    def handle(self, headers: Mapping[str, str], body: bytes) -> Answer:
        """The answer to a post of ``body`` (already routed and sized).

        Args:
            headers: The request's headers, keyed by lower-case name.
            body: The request's body.
        """
        refused = self._authenticate(headers, body)
        if refused is not None:
            return refused
        try:
            post = read_json(body)
        except ValueError:
            return _error(400, "malformed_json", "the body is not valid UTF-8 JSON")
        if not isinstance(post, dict):
            return _error(400, "not_an_object", "the body must be a JSON object")
        for key in ("id", "type"):
            if not isinstance(post.get(key), str) or not post[key].strip():
                return _error(400, f"missing_{key}", f"the post needs a non-empty string {key!r}")
        return self._spool(post["id"], body)

    def _authenticate(self, headers: Mapping[str, str], body: bytes) -> Answer | None:
        stamp = headers.get(TIMESTAMP_HEADER.lower())
        given = headers.get(SIGNATURE_HEADER.lower())
        if not stamp or not given:
            return _error(
                401,
                "missing_signature",
                f"sign each post: {TIMESTAMP_HEADER} (Unix seconds) and {SIGNATURE_HEADER} "
                f"({SIGNATURE_SCHEME}<hex HMAC-SHA256 of '<timestamp>.<body>'>)",
            )
        if not is_number(stamp):
            return _error(401, "invalid_timestamp", f"{TIMESTAMP_HEADER} must be Unix seconds")
        if abs(self.clock() - int(stamp)) > self.settings.max_skew_seconds:
            return _error(
                401,
                "stale_timestamp",
                f"the post was signed more than {self.settings.max_skew_seconds} s from now; "
                "sign it again when sending (and check the sender's clock)",
            )
        expected = signature(self.settings.secret, stamp, body)
        if not hmac.compare_digest(expected.encode(), given.strip().encode()):
            return _error(
                401,
                "invalid_signature",
                "the signature does not match the body and timestamp; check the shared secret",
            )
        return None

    def _spool(self, post_id: str, body: bytes) -> Answer:
        try:
            intake_id, duplicate = self.spool.append(post_id, body)
        except PostIdConflictError:
            return _error(
                409,
                "id_conflict",
                f"post {post_id} was accepted before with a different body; "
                "send a correction under a new id",
            )
        except SpoolUnavailableError:
            log.warning("spool unavailable: answered 503 to post %s", post_id)
            return _error(503, "spool_unavailable", "the intake cannot store posts now; retry")
        status = "duplicate" if duplicate else "accepted"
        log.info("post %s %s as intake %d", post_id, status, intake_id)
        return 202, {"intake_id": intake_id, "status": status}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a stalled client must not hold up close()

    def __init__(self, address: tuple[str, int], intake: Intake) -> None:
        self.intake = intake
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("webhook connection from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kawal-bawaslu-webhook/1"

    def do_GET(self) -> None:
        if self.path == "/health":
            self._answer((200, {"status": "ok"}))
        else:
            self._answer(_error(404, "not_found", f"post to {WEBHOOK_PATH}"))

    def do_POST(self) -> None:
        try:
            self._post()
        except (ConnectionError, TimeoutError):
            raise  # the client went away: the server's handle_error notes it
        except Exception as exc:
            # A defect, not the client's fault: answer 500 and tell ops (the exception's
            # message is withheld from the log, it may quote the post).
            log.error("webhook post failed with %s", type(exc).__name__, exc_info=True)
            self.close_connection = True
            self._answer(_error(500, "internal_error", "the post may not be kept: send it again"))

    def _post(self) -> None:
        intake = cast(_Server, self.server).intake
        if self.path != WEBHOOK_PATH:
            self._answer(_error(404, "not_found", f"post to {WEBHOOK_PATH}"))
            return
        length = self.headers.get("Content-Length", "")
        if not is_number(length):
            self.close_connection = True
            self._answer(_error(411, "length_required", "send a Content-Length"))
            return
        if int(length) > intake.settings.max_body_bytes:
            self.close_connection = True  # the body is left unread
            limit = intake.settings.max_body_bytes
            self._answer(_error(413, "too_large", f"a post may have at most {limit} bytes"))
            return
        body = self.rfile.read(int(length))
        headers = {name.lower(): value for name, value in self.headers.items()}
        self._answer(intake.handle(headers, body))

    def _answer(self, answer: Answer) -> None:
        status, payload = answer
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("webhook %s: " + format, self.client_address[0], *args)


class WebhookListenerError(ConnectorError):
    """The webhook cannot listen where it is configured to."""


class WebhookListener:
    """The HTTP listener of one address, shared by the connector instances configured for it.

    The runtime hosts one ``bawaslu-webhook`` at a time, but a process may briefly hold two
    instances (a restart that builds the new one first, tests): they share the listener,
    which stops when the last one is closed.
    """

    _active: ClassVar[dict[tuple[str, int], WebhookListener]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, settings: IntakeSettings) -> None:
        self.settings = settings
        self._spool = Spool(
            settings.spool_dir, settings.busy_seconds, SpoolSealer(settings.spool_key)
        )
        self._server = _Server((settings.host, settings.port), Intake(settings, self._spool))
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"bawaslu-webhook:{settings.port}",
            daemon=True,
        )
        self._users = 0

    @classmethod
    def acquire(cls, settings: IntakeSettings) -> WebhookListener:
        """The running listener of ``settings``' address, started if needed.

        Raises:
            WebhookListenerError: the address is taken, or serves another configuration.
        """
        key = (settings.host, settings.port)
        with cls._guard:
            listener = cls._active.get(key)
            if listener is None:
                try:
                    listener = cls(settings)
                except OSError as exc:
                    raise WebhookListenerError(
                        f"the Bawaslu webhook cannot listen on {settings.host}:{settings.port} "
                        f"({exc.strerror or exc}); free the port or change listen_port"
                    ) from exc
                listener._thread.start()
                cls._active[key] = listener
                log.info("Bawaslu webhook listening on %s:%d", *key)
            elif listener.settings != settings:
                raise WebhookListenerError(
                    f"{settings.host}:{settings.port} already serves the Bawaslu webhook of "
                    f"spool {listener.settings.spool_dir}; give each bawaslu-webhook its own "
                    "listen_port"
                )
            listener._users += 1
            return listener

    def release(self) -> None:
        """Stop using the listener; the last user stops it."""
        with self._guard:
            self._users -= 1
            if self._users > 0:
                return
            del self._active[(self.settings.host, self.settings.port)]
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._spool.close()
        log.info("Bawaslu webhook on %s:%d stopped", self.settings.host, self.settings.port)
