"""A metrics port that slow or many clients cannot use to exhaust the process's threads.

Served for real on a loopback port, as a connector process serves its metrics. The port drops a
silent connection after :data:`IDLE_SECONDS` (KAWAL_HTTP_IDLE_SECONDS), far below the default
15 s, so the setting is what drops it.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest

from monitoring.connectors import ConnectorMetrics
from monitoring.exposition import MAX_CONNECTIONS
from streams.local.processes import free_port
from streams.settings import DEFAULT_HTTP_IDLE_SECONDS

#: Seconds the served port keeps a silent connection in these tests.
IDLE_SECONDS = 2.0


def served(idle_seconds: float) -> int:
    """A port serving a connector process's metrics, dropping connections silent that long."""
    port = free_port()
    ConnectorMetrics().serve("127.0.0.1", port, idle_seconds)
    return port


@pytest.fixture
def port() -> int:
    """A port serving a connector process's metrics, dropping silent ones after IDLE_SECONDS."""
    return served(IDLE_SECONDS)


@pytest.fixture
def stall() -> Iterator[list[socket.socket]]:
    """Connections to open, each stopped in the middle of its headers; closed afterwards."""
    opened: list[socket.socket] = []
    yield opened
    for connection in opened:
        connection.close()


def stalled(port: int, into: list[socket.socket]) -> socket.socket:
    """A connection to ``port`` stopped in the middle of its headers, kept in ``into``."""
    connection = socket.create_connection(("127.0.0.1", port))
    into.append(connection)
    connection.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
    return connection


def request_threads() -> set[threading.Thread]:
    """The threads of this process serving one connection each."""
    return {t for t in threading.enumerate() if t.name.endswith("(process_request_thread)")}


def started_since(before: set[threading.Thread], count: int) -> set[threading.Thread]:
    """The request threads not in ``before``, once there are ``count`` (5 s at most)."""
    deadline = time.monotonic() + 5
    while len(found := request_threads() - before) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return found


def held(port: int, count: int, into: list[socket.socket]) -> set[threading.Thread]:
    """The threads holding ``count`` stalled connections, opened one after another.

    Each is opened once the one before has its thread: opened at once, they could overflow the
    server's listen backlog (5), and the kernel would retry the rest a second or more later.
    """
    before = request_threads()
    threads: set[threading.Thread] = set()
    for opened in range(1, count + 1):
        stalled(port, into)
        threads = started_since(before, opened)
        assert len(threads) == opened, f"{opened} stalled connections, {len(threads)} threads"
    return threads


def ended(thread: threading.Thread, seconds: float) -> None:
    """Wait up to ``seconds`` for ``thread`` to end, once it has started.

    ``threading.enumerate`` lists a thread just before it has started, and such a thread
    cannot be joined yet.
    """
    deadline = time.monotonic() + seconds
    while True:
        try:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
            return
        except RuntimeError:  # not started yet
            time.sleep(0.01)


def closed_within(connection: socket.socket, seconds: float) -> bool:
    """Whether the server closes ``connection`` within ``seconds``."""
    connection.settimeout(seconds)
    try:
        return connection.recv(1) == b""
    except TimeoutError:
        return False


def test_many_half_sent_requests_hold_a_bounded_number_of_threads(
    stall: list[socket.socket],
) -> None:
    port = served(DEFAULT_HTTP_IDLE_SECONDS)  # none is dropped while they are counted
    before = request_threads()
    holding = held(port, MAX_CONNECTIONS, stall)

    for _ in range(3 * MAX_CONNECTIONS):
        assert closed_within(stalled(port, stall), 5)  # beyond the bound: closed unanswered

    assert request_threads() - before == holding


def test_a_half_sent_request_is_dropped_and_frees_its_thread(
    port: int, stall: list[socket.socket]
) -> None:
    [thread] = held(port, 1, stall)

    assert closed_within(stall[0], IDLE_SECONDS + 5)
    ended(thread, 5)
    assert not thread.is_alive()


def test_a_scrape_is_answered_once_the_stalled_clients_are_dropped(
    port: int, stall: list[socket.socket]
) -> None:
    holding = held(port, MAX_CONNECTIONS, stall)
    for thread in holding:  # each frees its slot as its thread ends
        ended(thread, IDLE_SECONDS + 5)
    assert not any(thread.is_alive() for thread in holding)

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        assert answer.status == 200
        assert b"kawal_connector" in answer.read()
