"""The reporting portal drops a connection that never finishes its request's headers.

The portal here waits :data:`IDLE_SECONDS` (its ``idle_seconds``), far below the default 15 s,
so the setting is what closes the connection.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.errors import ConnectorConfigError
from connectors.host import build
from connectors.lapor.connector import LaporIntake
from connectors.lapor.evidence import S3Location
from tests.connectors.test_lapor_portal import config, opened_intake, request
from tests.lapor_support import seaweed_s3

#: The portal's idle_seconds in these tests.
IDLE_SECONDS = 1.0


@pytest.fixture
def intake(tmp_path: Path) -> Iterator[LaporIntake]:
    with (
        seaweed_s3(tmp_path / "s3") as location,
        opened_intake(location, tmp_path / "spool", idle_seconds=IDLE_SECONDS) as connector,
    ):
        yield connector


def test_a_request_that_stops_in_its_headers_is_dropped(intake: LaporIntake) -> None:
    with socket.create_connection(("127.0.0.1", intake.config.listen_port)) as connection:
        connection.sendall(b"GET /lacak HTTP/1.1\r\nHost: x\r\nAccept-Language: id\r\n")
        connection.settimeout(IDLE_SECONDS + 5)

        assert connection.recv(1) == b""  # closed, unanswered

    assert request(intake, "GET", "/health")[0] == 200


@pytest.mark.parametrize("value", [0, -1, "soon", "inf"])
def test_an_idle_time_that_is_no_positive_number_is_refused(value: object, tmp_path: Path) -> None:
    nowhere = S3Location("http://127.0.0.1:9", "kawal-evidence", "key", "secret", None)

    with pytest.raises(ConnectorConfigError) as refused:
        build("lapor-intake", config(nowhere, tmp_path / "spool", idle_seconds=value))

    [line] = str(refused.value).splitlines()
    assert line.startswith("invalid configuration of lapor-intake: idle_seconds: ")
