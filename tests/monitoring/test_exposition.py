"""A metrics port that slow or many clients cannot use to exhaust the process's threads.

Served for real on a loopback port, as a connector process serves its metrics.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest

from monitoring.connectors import ConnectorMetrics
from monitoring.exposition import IDLE_SECONDS, MAX_CONNECTIONS
from streams.local.processes import free_port


@pytest.fixture
def port() -> int:
    """A port serving a connector process's metrics."""
    served = free_port()
    ConnectorMetrics().serve("127.0.0.1", served)
    return served


@pytest.fixture
def stall(port: int) -> Iterator[list[socket.socket]]:
    """Connections to open, each stopped in the middle of its headers; closed afterwards."""
    opened: list[socket.socket] = []
    yield opened
    for connection in opened:
        connection.close()
    time.sleep(0.5)  # their threads end before the next test counts threads


def open_stalled(port: int, count: int, into: list[socket.socket]) -> None:
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", port))
        connection.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        into.append(connection)
    time.sleep(0.5)  # the server accepts them


def closed_within(connection: socket.socket, seconds: float) -> bool:
    """Whether the server closes ``connection`` within ``seconds``."""
    connection.settimeout(seconds)
    try:
        return connection.recv(1) == b""
    except TimeoutError:
        return False


def test_many_half_sent_requests_hold_a_bounded_number_of_threads(
    port: int, stall: list[socket.socket]
) -> None:
    before = threading.active_count()

    open_stalled(port, 4 * MAX_CONNECTIONS, stall)

    assert threading.active_count() <= before + MAX_CONNECTIONS
    assert closed_within(stall[-1], 1)  # beyond the bound: closed unanswered


def test_a_half_sent_request_is_dropped_and_frees_its_thread(
    port: int, stall: list[socket.socket]
) -> None:
    before = threading.active_count()
    open_stalled(port, 1, stall)
    assert threading.active_count() == before + 1

    assert closed_within(stall[0], IDLE_SECONDS + 5)
    time.sleep(0.5)
    assert threading.active_count() == before


def test_a_scrape_is_answered_once_the_stalled_clients_are_dropped(
    port: int, stall: list[socket.socket]
) -> None:
    open_stalled(port, MAX_CONNECTIONS, stall)
    time.sleep(IDLE_SECONDS + 1)

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        assert answer.status == 200
        assert b"kawal_connector" in answer.read()
