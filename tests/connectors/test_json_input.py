"""JSON from outside: what json.loads takes and would fail on later is malformed here."""

from __future__ import annotations

import json

import pytest

from connectors.json_input import read_json


def test_json_is_read() -> None:
    assert read_json(b'{"a": ["b", 1, null, "\\u00e9"]}') == {"a": ["b", 1, None, "\u00e9"]}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"summary": "x \\ud800 y"}', "lone surrogate"),
        (b'["\\udfff"]', "lone surrogate"),
        (b"{not json", "Expecting property name"),
        (b"\xff\xfe{", "can't decode byte"),
    ],
)
def test_what_would_fail_later_is_malformed_now(text: bytes, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        read_json(text)


def test_a_surrogate_pair_is_one_character() -> None:
    assert read_json(b'"\\ud83d\\ude00"') == json.loads(b'"\\ud83d\\ude00"') == "\U0001f600"
