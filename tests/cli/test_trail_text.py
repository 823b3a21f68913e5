"""``kawal case trail`` as text: one column per field, whatever the times' precision."""

from __future__ import annotations

import pytest

from streams.cli.cases import _print_trail


def entry(seq: int, event_time: str, event_type: str) -> dict[str, object]:
    return {
        "seq": seq,
        "envelope": {"event_time": event_time, "source": "bawaslu"},
        "event_type": event_type,
        "hash": "ab" * 32,
    }


def test_a_time_with_microseconds_keeps_the_columns_aligned(
    capsys: pytest.CaptureFixture[str],
) -> None:
    view = {
        "case_id": "c",
        "view": "public",
        "verified": True,
        "entries": [
            entry(1, "2024-11-04T09:00:00+07:00", "ReportReceived"),
            entry(2, "2026-12-06T11:42:47.308123+00:00", "SanctionImposed"),
        ],
    }

    _print_trail(view)

    rows = capsys.readouterr().out.splitlines()[1:3]
    assert rows[0].index("ReportReceived") == rows[1].index("SanctionImposed")
    assert rows[0].index("bawaslu") == rows[1].index("bawaslu")
