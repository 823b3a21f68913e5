"""JSON log lines: one object per record, the known ids and codes, no exception text."""

from __future__ import annotations

import json
import logging

from streams.logs import JsonFormatter, formatter

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
