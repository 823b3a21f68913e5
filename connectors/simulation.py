"""What the simulators of institutions' systems share: a JSON API, staff, a database outage.

The Bawaslu callback API and SIASN are :class:`SimulatedJsonApi`: served from a thread on
loopback, started, stopped (releasing stalled answers), taken off the network, each POST handed
to :meth:`SimulatedJsonApi.answer` and each GET to :meth:`SimulatedJsonApi.answer_get`. The
authority's staff, the PPK's office and the inspectorate's export job are
:class:`SimulatedStaff`: a round of work every interval, in a thread. The authority's database
and the PPK's decree registry go down with :func:`database_offline`.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self, cast

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from streams.local.processes import free_port

log = logging.getLogger(__name__)

#: An HTTP status and the JSON object answered with it.
Answer = tuple[int, dict[str, Any]]


class SimulatedJsonApi(ABC):
    """Lifecycle of a simulated API; subclasses answer the requests.

    Args:
        port: Port to listen on (0: a free one).
        name: Name of the serving thread.
    """

    def __init__(self, port: int, name: str) -> None:
        self.port = port or free_port()
        self._name = name
        #: Set while stopping: a stalled answer waits on it, so stopping releases it.
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @abstractmethod
    def answer(self, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """The answer to one POST (header names lower-case)."""

    def answer_get(self, path: str, headers: Mapping[str, str]) -> Answer:
        """The answer to one GET of ``path`` with its query (header names lower-case).

        An API that serves reads overrides it; by default every GET is 405.
        """
        del path, headers
        return 405, {"error": "method_not_allowed"}

    def start(self) -> Self:
        """Start serving in a thread."""
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", self.port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=self._name,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (stalled answers are released)."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @contextmanager
    def offline(self) -> Iterator[None]:
        """The API is off the network (connection refused) inside the block."""
        self.stop()
        try:
            yield
        finally:
            self.start()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], api: SimulatedJsonApi) -> None:
        self.api = api
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up on a stalled answer is part of the simulation


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        api = cast(_Server, self.server).api
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        self._send(*api.answer(self.path, headers, body))

    def do_GET(self) -> None:
        api = cast(_Server, self.server).api
        headers = {name.lower(): value for name, value in self.headers.items()}
        self._send(*api.answer_get(self.path, headers))

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class SimulatedStaff:
    """An institution's staff in a daemon thread: one round of work every interval until stopped.

    A round that fails with one of ``outages`` (their system is down) is logged, and the staff
    try again at the next round, as people do.

    Args:
        name: Name of the thread.
        work: One round of work.
        outages: Errors that mean the institution's system cannot be reached.
    """

    def __init__(
        self, name: str, work: Callable[[], None], outages: tuple[type[Exception], ...]
    ) -> None:
        self.name = name
        self._work = work
        self._outages = outages
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, interval_seconds: float) -> None:
        """Start working, the first round after ``interval_seconds``.

        Raises:
            RuntimeError: the staff are already working.
        """
        if self._thread is not None:
            raise RuntimeError(f"{self.name} is already running; stop() it first")
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, args=(interval_seconds,), name=self.name, daemon=True
        )
        self._thread.start()

    def stop(self, timeout_seconds: float | None = 10.0) -> None:
        """Stop after the current round, waiting for it at most ``timeout_seconds`` (None: ever)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_seconds)
            self._thread = None

    def pause(self, seconds: float) -> None:
        """Wait ``seconds`` inside a round; stopping ends the wait at once."""
        self._stop.wait(seconds)

    def _loop(self, interval_seconds: float) -> None:
        while not self._stop.wait(interval_seconds):
            try:
                self._work()
            except self._outages as exc:  # a real office waits for its system, then goes on
                log.info("%s: system unreachable (%s); next round", self.name, type(exc).__name__)


@contextmanager
def database_offline(url: str) -> Iterator[None]:
    """The database at ``url`` cannot be reached inside the block (SQLite or PostgreSQL)."""
    target = make_url(url)
    if target.get_backend_name() == "sqlite":
        with _moved_away(Path(str(target.database))):
            yield
    else:
        with _refusing_connections(url):
            yield


@contextmanager
def _moved_away(database: Path) -> Iterator[None]:
    """The SQLite file (and its WAL files) moved aside, as by an operator or a failed mount."""
    parts = [database, database.with_name(database.name + "-wal")]
    parts.append(database.with_name(database.name + "-shm"))
    moved = [(part, part.with_name(part.name + ".away")) for part in parts if part.exists()]
    for part, away in moved:
        shutil.move(part, away)
    try:
        yield
    finally:
        for part, away in moved:
            shutil.move(away, part)


@contextmanager
def _refusing_connections(url: str) -> Iterator[None]:
    """PostgreSQL refuses every connection to the database, superusers' included."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = target.database
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
