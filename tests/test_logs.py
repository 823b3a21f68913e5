"""JSON log lines: one object per record, the known ids and codes, no exception text."""

from __future__ import annotations

import io
import json
import logging
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from faust.exceptions import ConsistencyError
from kafka.errors import Cancelled, KafkaError, NodeNotReadyError
from kafka.net.transport import KafkaTCPTransport

from schemas.errors import CodecError
from streams.logs import (
    JsonFormatter,
    RepeatedClientLines,
    WithholdExceptionText,
    configure,
    failure_name,
    formatter,
    quiet_client_chatter,
    use_format,
)

CANARY = "Siti Canary 198501012010011001"


def record(**extra: object) -> logging.LogRecord:
    made = logging.LogRecord(
        "kawal.test", logging.WARNING, __file__, 1, "rejected %s", ("x",), None
    )
    for name, value in extra.items():
        setattr(made, name, value)
    return made


def test_a_record_is_one_json_object_with_its_ids_and_codes() -> None:
    line = JsonFormatter().format(
        record(event_id="e-1", case_id="c-1", stage="ingress", reason="bad_signature", other="no")
    )
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "rejected x"
    assert entry["level"] == "warning"
    assert (entry["event_id"], entry["case_id"], entry["stage"], entry["reason"]) == (
        "e-1",
        "c-1",
        "ingress",
        "bad_signature",
    )
    assert "other" not in entry
    assert entry["time"].endswith("+00:00")


def test_a_database_failure_is_named_with_its_code_never_its_text(tmp_path: Path) -> None:
    # A demo connector stopped on "DatabaseError" alone: locked, damaged or no database?
    not_a_database = tmp_path / "checkpoints.db"
    not_a_database.write_bytes(b"not sqlite at all, and " + CANARY.encode() + b"\x00" * 200)

    with pytest.raises(sqlite3.DatabaseError) as failed:
        sqlite3.connect(not_a_database).execute("SELECT 1 FROM sqlite_master")

    assert failure_name(failed.value) == "DatabaseError (SQLITE_NOTADB)"
    assert failure_name(ValueError(CANARY)) == "ValueError"


def test_an_exception_gives_its_type_and_frames_never_its_text() -> None:
    try:
        raise ValueError(f"cannot encode {CANARY!r}")
    except ValueError:
        failed = record()
        import sys

        failed.exc_info = sys.exc_info()
    line = JsonFormatter().format(failed)
    entry = json.loads(line)
    assert entry["error_type"] == "ValueError"
    assert "test_an_exception_gives" in entry["traceback"]
    assert CANARY not in line


def test_text_stays_readable() -> None:
    line = formatter("text").format(record(stage="ingress"))
    assert "WARNING kawal.test: rejected x" in line
    assert not line.startswith("{")


def logged(log_format: str, emit: Callable[[logging.Logger], None]) -> str:
    """What a logger whose handler :func:`use_format` set up writes when ``emit`` logs."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.Logger("kawal.test.withheld")
    logger.addHandler(handler)
    use_format(logger, log_format)
    emit(logger)
    return out.getvalue()


def failing_with(error: Exception) -> Callable[[logging.Logger], None]:
    """Log ``error`` as mode logs a crashed service: its repr as argument, with the trace."""

    def emit(logger: logging.Logger) -> None:
        try:
            raise error
        except Exception as exc:
            logger.exception("Crashed reason=%r", exc)

    return emit


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_third_party_exception_is_logged_by_type_and_frames_in_either_format(
    log_format: str,
) -> None:
    written = logged(log_format, failing_with(ValueError(f"cannot encode {CANARY!r}")))
    assert CANARY not in written
    assert "Crashed reason=ValueError" in written
    assert "failing_with" in written or "emit" in written  # the frames are there


def test_text_names_the_withheld_message() -> None:
    written = logged("text", failing_with(ValueError(CANARY)))
    assert "ValueError (message withheld)" in written
    assert "Traceback (most recent call last):" in written


def test_an_exception_as_the_message_is_named_by_type() -> None:
    written = logged("text", lambda logger: logger.error(KeyError(CANARY)))
    assert written.strip() == "ERROR KeyError"


def test_the_hubs_own_errors_keep_their_messages() -> None:
    error = CodecError("the record does not decode; fix the producer")
    written = logged("text", failing_with(error))
    assert "Crashed reason=CodecError('the record does not decode; fix the producer')" in written
    assert "CodecError: the record does not decode; fix the producer" in written


def test_fausts_changelog_check_keeps_its_message_which_says_what_to_recover() -> None:
    # It names a topic, a partition and offsets, no value: the operator needs it to recover.
    text = "The persisted offset for changelog topic partition TP(x, 1) is higher (69 > 68)"
    written = logged("text", failing_with(ConsistencyError(text)))
    assert f"ConsistencyError: {text}" in written
    assert "message withheld" not in written


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_line_feed_in_what_a_message_quotes_cannot_forge_a_line(log_format: str) -> None:
    # A request path the server decoded: before, it wrote a log line of the client's choosing.
    path = "/cases/x\n[2026-12-07 09:00:00,000] [1] [INFO] forged\r\u2028/trail"

    written = logged(log_format, lambda logger: logger.info("refused GET %s", path))

    assert written.count("\n") == 1
    message = json.loads(written)["message"] if log_format == "json" else written
    assert "/cases/x\\u000a[2026-12-07 09:00:00,000] [1] [INFO] forged\\u000d\\u2028/trail" in (
        message
    )


def test_a_traceback_keeps_its_lines_and_a_message_whose_arguments_do_not_fit_is_kept() -> None:
    written = logged("text", failing_with(CodecError("no")))
    assert written.count("\n") > 2
    # logging reports the mismatch itself, as without the filter.
    assert logged("text", lambda logger: logger.info("%d things", "many")) == ""


def test_records_without_exceptions_pass_unchanged() -> None:
    plain = record()
    assert WithholdExceptionText().filter(plain)
    assert plain.getMessage() == "rejected x"
    assert plain.exc_text is None


@pytest.mark.parametrize(("level", "kept"), [("INFO", ["WARNING"]), ("DEBUG", ["INFO", "WARNING"])])
def test_kafka_pythons_connection_chatter_is_kept_only_when_debugging(
    level: str, kept: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure("text", level)
        client = logging.getLogger("kafka.conn")
        client.info("Attempting bootstrap")
        client.warning("connection refused")
        logging.getLogger("streams.hub").info("the hub's own line")
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        quiet_client_chatter(logging.DEBUG)  # back to NOTSET, as other tests expect
    lines = capsys.readouterr().err.splitlines()

    assert [line.split()[2] for line in lines if "kafka.conn" in line] == kept
    assert any("the hub's own line" in line for line in lines)


def test_a_client_error_it_retries_is_a_warning_and_others_stay_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure("text", "INFO")
        cluster = logging.getLogger("kafka.cluster")
        cluster.error("Metadata refresh: failed %s", NodeNotReadyError())
        cluster.error("Metadata refresh: failed %s", KafkaError())
        logging.getLogger("streams.hub").error("failed %s", Cancelled())
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        quiet_client_chatter(logging.DEBUG)
    lines = [line.split(maxsplit=3)[2:] for line in capsys.readouterr().err.splitlines()]

    assert lines == [
        ["WARNING", "kafka.cluster: Metadata refresh: failed NodeNotReadyError"],
        ["ERROR", "kafka.cluster: Metadata refresh: failed KafkaError"],
        ["ERROR", "streams.hub: failed Cancelled"],
    ]


def test_a_client_reading_a_connection_it_closed_is_a_warning_without_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # kafka-python's own race: a read scheduled before the transport closed runs after it.
    ours, theirs = socket.socketpair()
    selector = SimpleNamespace(unregister_event=lambda *_: None, cancel=lambda *_: None)
    transport = KafkaTCPTransport(selector, ours)
    transport.close()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure("text", "INFO")
        transport._sock_recv()
        logging.getLogger("kafka.net.transport").error("%s: Abort (%s)", transport, "other")
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        quiet_client_chatter(logging.DEBUG)
        theirs.close()
    err = capsys.readouterr().err

    assert "Traceback" not in err
    lines = [line.split(maxsplit=3)[2:] for line in err.splitlines()]
    assert lines == [
        [
            "WARNING",
            "kafka.net.transport: <KafkaTCPTransport [none] (closed)>: Error receiving "
            "network data closing socket",
        ],
        ["ERROR", "kafka.net.transport: <KafkaTCPTransport [none] (closed)>: Abort (other)"],
    ]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def client_line(name: str = "aiokafka.conn", node: int = 111) -> logging.LogRecord:
    template = "Unable connect to node with id %s: %s"
    return logging.LogRecord(name, logging.ERROR, __file__, 1, template, (node, "refused"), None)


def test_a_client_line_repeated_within_a_minute_is_written_once_then_counted() -> None:
    # 3,331 lines in 31 s from one worker during a broker outage buried the hub's own line.
    clock = Clock()
    held = RepeatedClientLines(60.0, clock)

    written = [held.filter(client_line(node=n)) for n in range(500)]
    clock.now = 60.0
    next_one = client_line()
    passed_again = held.filter(next_one)

    assert written == [True] + [False] * 499
    assert passed_again
    assert next_one.getMessage() == (
        "Unable connect to node with id 111: refused [and 499 more like it in the last 60 s]"
    )


def test_other_lines_and_the_hubs_own_are_never_held() -> None:
    clock = Clock()
    held = RepeatedClientLines(60.0, clock)
    hubs = logging.LogRecord(
        "streams.broker.silence", logging.ERROR, __file__, 1, "the broker does not answer", (), None
    )

    assert held.filter(client_line())
    assert held.filter(client_line("kafka.conn"))  # another logger: another line
    assert all(held.filter(hubs) for _ in range(5))


def test_a_clients_info_lines_are_never_held() -> None:
    # A consumer group's assignments are INFO lines, each worth reading however close.
    held = RepeatedClientLines(60.0, Clock())
    assigned = logging.LogRecord(
        "aiokafka.consumer.subscription_state", logging.INFO, __file__, 1,
        "Updating subscribed topics to: %s", ("x",), None,
    )  # fmt: skip

    assert all(held.filter(assigned) for _ in range(3))
