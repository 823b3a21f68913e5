"""Serving a Prometheus registry over HTTP from a daemon thread, safe from slow clients.

``prometheus_client.start_http_server`` gives every connection a thread and never times one
out: a client that sends half a request holds a thread of the process for ever, and enough
of them exhaust the threads the process's own work needs (a connector's intake runs in
threads). Here a connection that sends nothing for a while (``KAWAL_HTTP_IDLE_SECONDS``) is
dropped, and at most :data:`MAX_CONNECTIONS` are served at once (a scraper needs one); more are
closed at once.
"""

from __future__ import annotations

import socket
import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from monitoring.health import Readiness, with_health

#: Connections served at once.
MAX_CONNECTIONS = 8


class _QuietHandler(WSGIRequestHandler):
    """No access log, and a socket timeout on every read (``timeout``, set per server)."""

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:  # the client fell silent or went away: nothing to answer or log
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing: a scrape is no event."""


class _BoundedServer(ThreadingWSGIServer):
    """A thread per connection, up to :data:`MAX_CONNECTIONS`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)  # full: the connection is closed unanswered
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def serve_registry(
    registry: CollectorRegistry,
    host: str,
    port: int,
    idle_seconds: float,
    readiness: Readiness | None = None,
) -> None:
    """Serve ``registry``'s exposition on ``host:port`` from a daemon thread.

    A connection silent for ``idle_seconds`` is dropped. With ``readiness``, ``/readyz`` and
    ``/livez`` are served too (:func:`monitoring.health.with_health`).

    Raises:
        OSError: the port cannot be bound.
    """

    class Server(_BoundedServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    class Handler(_QuietHandler):
        timeout = idle_seconds

    app = make_wsgi_app(registry)
    served = with_health(app, readiness) if readiness else app
    server = make_server(host, port, served, Server, Handler)
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
