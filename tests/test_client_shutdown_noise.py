"""A closing kafka-python client's two noisy lines are DEBUG; the broker's real errors are not.

The ``Invalid file descriptor`` record is made by kafka-python's own I/O loop, as in a worker:
a task waits to read a socket already closed.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

import pytest
from kafka.errors import Cancelled, KafkaConnectionError
from kafka.net.selector import NetworkSelector

from streams.logs import configure, quiet_client_chatter


def read_closed_socket() -> None:
    """kafka-python's loop running a read of a socket closed before the read was scheduled."""
    ours, theirs = socket.socketpair()
    ours.close()
    loop = NetworkSelector()

    async def read() -> None:
        await loop.wait_read(ours)

    loop.call_soon(read())
    for _ in range(3):
        loop.poll(timeout_ms=20)
    loop.close()
    theirs.close()


def errors_after(action: Callable[[], None], level: str, capsys: pytest.CaptureFixture[str]) -> str:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure("text", level)
        capsys.readouterr()
        action()
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        quiet_client_chatter(logging.DEBUG)
    return capsys.readouterr().err


def test_a_read_of_a_closed_socket_writes_nothing_above_debug(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert errors_after(read_closed_socket, "INFO", capsys) == ""
    kept = errors_after(read_closed_socket, "DEBUG", capsys)
    assert "DEBUG kafka.net.selector: Unhandled exception in task" in kept
    assert "Invalid file descriptor" in kept  # the frame's source line, when debugging


def test_a_cancelled_metadata_refresh_writes_nothing_above_debug(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def refresh_cancelled() -> None:
        logging.getLogger("kafka.cluster").error("Metadata refresh: failed %s", Cancelled())

    assert errors_after(refresh_cancelled, "INFO", capsys) == ""
    assert "DEBUG kafka.cluster: Metadata refresh: failed Cancelled" in errors_after(
        refresh_cancelled, "DEBUG", capsys
    )


def test_a_metadata_refresh_the_broker_failed_stays_a_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def broker_away() -> None:
        logging.getLogger("kafka.cluster").error(
            "Metadata refresh: failed %s", KafkaConnectionError()
        )
        logging.getLogger("streams.hub").error("failed %s", Cancelled())

    lines = [
        line.split(maxsplit=3)[2:]
        for line in errors_after(broker_away, "INFO", capsys).splitlines()
    ]
    assert lines == [
        ["WARNING", "kafka.cluster: Metadata refresh: failed KafkaConnectionError"],
        ["ERROR", "streams.hub: failed Cancelled"],
    ]


@pytest.mark.parametrize(
    "error", [ValueError("Invalid file descriptor: 7"), OSError("Bad file descriptor")]
)
def test_any_other_failure_of_a_task_stays_an_error_with_its_traceback(
    error: Exception, capsys: pytest.CaptureFixture[str]
) -> None:
    def task_failed() -> None:
        try:
            raise error
        except (ValueError, OSError):
            logging.getLogger("kafka.net.selector").exception(
                "Unhandled exception in task %s:", "<Task>"
            )

    err = errors_after(task_failed, "INFO", capsys)
    assert "ERROR kafka.net.selector: Unhandled exception in task <Task>:" in err
    assert "Traceback" in err
