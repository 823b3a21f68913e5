"""A request the HTTP server cannot parse is answered 400, counted, and leaves no error in the log.

Logged at ERROR with a traceback, as aiohttp does by default, anyone could fill the hub's logs
with requests that are not HTTP.
"""

from __future__ import annotations

import logging
import socket
import time
from urllib.parse import urlsplit

import pytest
from aiohttp.http_exceptions import LineTooLong

from streams.logs import HTTP_SERVER_LOGGER, QuietMalformedRequests
from tests.hubtools import RunningHub, metric_value

#: Requests no HTTP server can handle: a header without a colon, a request line too long.
MALFORMED = (
    b"GET /health HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
    b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
)

#: The series that counts them, as ops see it.
COUNTED = "kawal_http_malformed_requests_total"


def answer_to(url: str, request: bytes) -> bytes:
    """The first line of the server's answer to ``request`` sent raw."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(request)
        return connection.recv(4096).split(b"\r\n", 1)[0]


@pytest.mark.parametrize("server", ["worker", "sink"])
def test_a_malformed_request_is_a_400_counted_and_no_error_in_the_log(
    hub: RunningHub, server: str
) -> None:
    url, child = (hub.base_url, hub.worker) if server == "worker" else (hub.sink_url, hub.sink)
    before = metric_value(url, COUNTED)
    for request in MALFORMED:
        assert answer_to(url, request).endswith(b" 400 Bad Request")
    assert metric_value(url, COUNTED) == before + len(MALFORMED)
    answer_to(url, b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    time.sleep(0.5)  # the server's log line, if any, is written after its answer
    text = child.log_path.read_text(errors="replace")
    assert "Error handling request" not in text


def test_a_request_the_server_failed_stays_an_error(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger(HTTP_SERVER_LOGGER)
    quiet = QuietMalformedRequests()
    logger.addFilter(quiet)
    try:
        with caplog.at_level(logging.INFO, logger=HTTP_SERVER_LOGGER):
            try:
                raise RuntimeError("a defect of a view")
            except RuntimeError:
                logger.exception("Error handling request from %s", "127.0.0.1")
    finally:
        logger.removeFilter(quiet)
    assert [r.levelname for r in caplog.records] == ["ERROR"]


def test_a_malformed_request_is_logged_without_its_bytes(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger(HTTP_SERVER_LOGGER)
    quiet = QuietMalformedRequests()
    logger.addFilter(quiet)
    marker = "kawal-secret-marker-7f3a"
    try:
        with caplog.at_level(logging.DEBUG, logger=HTTP_SERVER_LOGGER):
            try:
                raise LineTooLong(f"Bearer {marker}", "8190")
            except LineTooLong:
                logger.exception("Error handling request from %s", "127.0.0.1")
    finally:
        logger.removeFilter(quiet)
    assert [r.levelname for r in caplog.records] == ["DEBUG"]
    assert "LineTooLong" in caplog.text
    assert marker not in caplog.text
