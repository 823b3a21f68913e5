"""A request the server cannot parse is answered as the hub answers its errors, quoting nothing.

aiohttp answers such a request itself, before any route: by default ``HTTP/1.0 400`` in plain
text echoing the offending bytes (the first hundred or so of a long ``Authorization`` header:
a bearer credential's), without the hub's security headers. Sent over raw sockets to the real
worker and sink, each carries a marker that must not come back.
"""

from __future__ import annotations

import contextlib
import json
import socket
from urllib.parse import urlsplit

import pytest

from streams.web.response_headers import HEADERS
from tests.hubtools import RunningHub

#: A string sent in each malformed request, which no answer may hold.
MARKER = "kawal-echo-marker-5e1d"

#: Requests no HTTP server can take, each holding :data:`MARKER`.
MALFORMED = {
    "request_line": f"GARBAGE {MARKER}\r\n\r\n".encode(),
    "huge_authorization": (
        f"GET /cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {MARKER}".encode()
        + b"x" * 100_000
        + b"\r\n\r\n"
    ),
    "control_byte": f"GET /livez HTTP/1.1\r\nHost: x\r\nX-Note: a\x01{MARKER}\r\n\r\n".encode(),
    "content_length": (
        f"POST /livez HTTP/1.1\r\nHost: x\r\nX-Note: {MARKER}\r\nContent-Length: abc{MARKER}"
        "\r\n\r\n".encode()
    ),
}


def exchange(url: str, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Status line, headers and body of the answer to ``request`` sent raw, read to its end."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    answer = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        # The server may close before a 100 KB header is all sent; its answer stands.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.sendall(request)
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return status, headers, body


@pytest.mark.parametrize("kind", sorted(MALFORMED))
@pytest.mark.parametrize("server", ["worker", "sink"])
def test_a_malformed_request_is_a_problem_with_the_hubs_headers_and_no_echo(
    hub: RunningHub, server: str, kind: str
) -> None:
    url = hub.base_url if server == "worker" else hub.sink_url
    status, headers, body = exchange(url, MALFORMED[kind])
    assert status.split(" ")[1] == "400", status
    assert headers["Content-Type"] == "application/problem+json"
    for name, value in HEADERS.items():
        assert headers[name] == value, name
    problem = json.loads(body)
    assert problem["reason"] == "malformed_request"
    assert problem["type"] == "urn:kawal:problem:malformed_request"
    assert problem["status"] == 400
    assert MARKER.encode() not in body
    assert MARKER not in json.dumps(headers)


def test_a_good_request_after_a_malformed_one_is_answered(hub: RunningHub) -> None:
    exchange(hub.base_url, MALFORMED["request_line"])
    status, _, body = exchange(
        hub.base_url, b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert status.split(" ")[1] == "200"
    assert json.loads(body) == {"status": "alive"}
