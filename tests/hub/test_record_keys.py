"""A record keyed otherwise than by its case_id text is told what its key is and should be."""

from __future__ import annotations

import uuid

import pytest

from streams.hub.record_keys import key_mismatch_reason

CASE_ID = "1d7a0c7e-d057-5caa-b371-38bf60d127fb"


@pytest.mark.parametrize(
    ("key", "what"),
    [
        (None, "the record has no key"),
        (b"", "the record has no key"),
        (uuid.UUID(CASE_ID).bytes, "the case_id's 16 raw bytes, not its text"),
        (CASE_ID.upper().encode(), "the case_id in other letters or with spaces around it"),
        (f" {CASE_ID}\n".encode(), "the case_id in other letters or with spaces around it"),
        (CASE_ID.replace("-", "").encode(), "the case_id without its hyphens"),
        (b"33/LP/PB/2023/017", "the record key (17 bytes) is not the event's case_id"),
    ],
)
def test_the_reason_names_what_the_key_is_and_the_text_it_must_be(
    key: bytes | None, what: str
) -> None:
    reason = key_mismatch_reason(key, CASE_ID)

    assert what in reason
    assert f"as written in the event, {CASE_ID}: its 36 characters as UTF-8 text" in reason


def test_the_reason_never_quotes_the_key() -> None:
    reason = key_mismatch_reason(b"3374011203850001 Budi", CASE_ID)

    assert "Budi" not in reason
    assert "3374011203850001" not in reason
