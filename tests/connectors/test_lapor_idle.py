"""The reporting portal drops a connection that never finishes its request's headers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.lapor.connector import LaporIntake
from connectors.lapor.server import IDLE_SECONDS
from tests.connectors.test_lapor_portal import opened_intake, request
from tests.lapor_support import seaweed_s3


@pytest.fixture
def intake(tmp_path: Path) -> Iterator[LaporIntake]:
    with (
        seaweed_s3(tmp_path / "s3") as location,
        opened_intake(location, tmp_path / "spool") as connector,
    ):
        yield connector


def test_a_request_that_stops_in_its_headers_is_dropped(intake: LaporIntake) -> None:
    with socket.create_connection(("127.0.0.1", intake.config.listen_port)) as connection:
        connection.sendall(b"GET /lacak HTTP/1.1\r\nHost: x\r\nAccept-Language: id\r\n")
        connection.settimeout(IDLE_SECONDS + 5)

        assert connection.recv(1) == b""  # closed, unanswered

    assert request(intake, "GET", "/health")[0] == 200
