"""``/readyz`` and ``/livez`` beside ``/metrics``, for a process that serves only its metrics.

A connector serves one page, its metrics; a probe that asks it learns only that the process
answers. ``/readyz`` asks the process whether it can work (200 ``{"status": "ok"}``, or the
status and body its check gives, such as 503 while its broker does not answer) and ``/livez``
only whether it answers (200 ``{"status": "alive"}``), as the hub's processes do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

#: Whether a process can work: None when it can, else the HTTP status and a JSON body.
Readiness = Callable[[], tuple[int, dict[str, Any]] | None]
Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_REASONS = {200: "200 OK", 503: "503 Service Unavailable"}


def with_health(metrics: Wsgi, readiness: Readiness) -> Wsgi:
    """A WSGI app answering ``/readyz`` with ``readiness`` and ``/livez``, else ``metrics``."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/readyz":
            status, body = readiness() or (200, {"status": "ok"})
        elif path == "/livez":
            status, body = 200, {"status": "alive"}
        else:
            return metrics(environ, start_response)
        payload = json.dumps(body).encode()
        start_response(
            _REASONS.get(status, f"{status} Status"),
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    return app
