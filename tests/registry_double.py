"""A real HTTP server implementing the subset of the Confluent Schema Registry API Kawal uses.

It listens on a free loopback port in a background thread and answers like the real registry,
error shapes included (``{"error_code": 40403, "message": "Schema not found"}`` with HTTP 404):

- ``POST /subjects/{subject}/versions`` with ``{"schema": ..., "schemaType": "AVRO"}``: registers
  and answers ``{"id": N}``; the same schema gets the same id under every subject, as in the
  real registry, and registering it again adds no version;
- ``GET /schemas/ids/{id}``: ``{"schema": "..."}``;
- ``GET /subjects`` and ``GET /subjects/{subject}/versions``: for assertions.

Knobs for failure tests: ``incompatible_subjects`` (registering there answers 409) and
``failing`` (every request answers 500).

Usage::

    with RegistryDouble() as registry:
        client = SchemaRegistryClient(registry.url, catalog)
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from fastavro.schema import SchemaParseException, parse_schema, to_parsing_canonical_form

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
_VERSIONS = re.compile(r"^/subjects/(?P<subject>[^/]+)/versions$")
_SCHEMA_BY_ID = re.compile(r"^/schemas/ids/(?P<id>-?\d+)$")


@dataclass
class _State:
    """What the registry holds; guarded by ``lock``, as handlers run in their own threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    schemas: dict[int, str] = field(default_factory=dict)  # id -> schema text as registered
    ids_by_canonical: dict[str, int] = field(default_factory=dict)
    subjects: dict[str, list[int]] = field(default_factory=dict)  # subject -> ids by version
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path), in order
    incompatible_subjects: set[str] = field(default_factory=set)
    failing: bool = False


class _RefusalError(Exception):
    """An error answer: HTTP status and the registry's error body."""

    def __init__(self, status: int, error_code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error_code": error_code, "message": message}


class RegistryDouble:
    """A Confluent-compatible schema registry on ``127.0.0.1`` for tests."""

    def __init__(self) -> None:
        self.state = _State()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self.state))
        self._server.daemon_threads = True
        # A short poll interval: stop() waits for the next poll (0.5 s by default).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL of the running registry."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> RegistryDouble:
        """Starts serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops serving and frees the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> RegistryDouble:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def register(self, subject: str, schema: str) -> int:
        """Registers ``schema`` directly, as another producer would; returns its id."""
        with self.state.lock:
            return _register(self.state, subject, schema)

    def posts(self) -> list[str]:
        """Paths of the POST requests received so far."""
        with self.state.lock:
            return [path for method, path in self.state.requests if method == "POST"]


def _handler_for(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(lambda: _get(state, self.path))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            self._answer(lambda: _post(state, self.path, body))

        def _answer(self, handle: Callable[[], Any]) -> None:
            with state.lock:
                state.requests.append((self.command, self.path))
                try:
                    if state.failing:
                        raise _RefusalError(500, 50001, "Error in the backend data store")
                    status, answer = 200, handle()
                except _RefusalError as refusal:
                    status, answer = refusal.status, refusal.body
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: test output stays readable."""

    return Handler


def _get(state: _State, path: str) -> Any:
    if path == "/subjects":
        return sorted(state.subjects)
    if match := _VERSIONS.match(path):
        subject = urllib.parse.unquote(match["subject"])
        if subject not in state.subjects:
            raise _RefusalError(404, 40401, f"Subject '{subject}' not found.")
        return list(range(1, len(state.subjects[subject]) + 1))
    if match := _SCHEMA_BY_ID.match(path):
        schema_id = int(match["id"])
        if schema_id not in state.schemas:
            raise _RefusalError(404, 40403, "Schema not found")
        return {"schema": state.schemas[schema_id]}
    raise _RefusalError(404, 404, "HTTP 404 Not Found")


def _post(state: _State, path: str, body: bytes) -> Any:
    match = _VERSIONS.match(path)
    if match is None:
        raise _RefusalError(405, 405, "HTTP 405 Method Not Allowed")
    try:
        request = json.loads(body)
    except ValueError:
        raise _RefusalError(400, 400, "Unexpected character: the request is not JSON") from None
    if not isinstance(request, dict) or not isinstance(request.get("schema"), str):
        raise _RefusalError(422, 422, "Unrecognized request: a schema string is required")
    if request.get("schemaType", "AVRO") != "AVRO":
        raise _RefusalError(422, 42201, "Invalid schema: only AVRO is supported here")
    subject = urllib.parse.unquote(match["subject"])
    return {"id": _register(state, subject, request["schema"])}


def _register(state: _State, subject: str, schema: str) -> int:
    canonical = _canonical(schema)
    versions = state.subjects.setdefault(subject, [])
    known = state.ids_by_canonical.get(canonical)
    if known is not None and known in versions:
        return known  # already a version of this subject: no new version
    if versions and subject in state.incompatible_subjects:
        message = "Schema being registered is incompatible with an earlier schema for subject"
        raise _RefusalError(409, 409, f'{message} "{subject}"')
    if known is None:
        known = len(state.schemas) + 1
        state.schemas[known] = schema
        state.ids_by_canonical[canonical] = known
    versions.append(known)
    return known


def _canonical(schema: str) -> str:
    try:
        return to_parsing_canonical_form(parse_schema(json.loads(schema)))
    except (ValueError, TypeError, KeyError, SchemaParseException) as exc:
        raise _RefusalError(422, 42201, f"Invalid schema {type(exc).__name__}") from None
