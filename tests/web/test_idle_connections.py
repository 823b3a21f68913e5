"""A connection that never finishes its request is closed, on the worker and the sink.

The hub runs with a short KAWAL_HTTP_IDLE_SECONDS; the drop comes well before the default 15 s,
so the setting is what closes the connection.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from tests.hubtools import HUB_IDLE_SECONDS, RunningHub, http_request


def closed_within(connection: socket.socket, seconds: float) -> bool:
    """Whether the server closes ``connection`` within ``seconds``."""
    connection.settimeout(seconds)
    try:
        return connection.recv(1) == b""
    except TimeoutError:
        return False


@pytest.mark.parametrize("server", ["worker", "sink"])
def test_a_request_that_stops_in_its_headers_is_dropped(hub: RunningHub, server: str) -> None:
    url = urlsplit(hub.base_url if server == "worker" else hub.sink_url)
    assert url.hostname is not None
    assert url.port is not None
    with socket.create_connection((url.hostname, url.port)) as connection:
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")

        assert closed_within(connection, HUB_IDLE_SECONDS + 5)

    status, _, _ = http_request(f"{url.geturl()}/livez")
    assert status == 200  # and the server still answers
