"""Every rejection reason is either mended by no fix (replay skips it) or by one, with why."""

from __future__ import annotations

from pathlib import Path

from streams.domain.reasons import Reason
from streams.domain.replayability import FIXABLE, PERMANENT, is_permanent


def test_every_reason_is_permanent_or_fixable_and_not_both() -> None:
    assert set(PERMANENT) & set(FIXABLE) == set()
    assert set(PERMANENT) | set(FIXABLE) == set(Reason)


def test_each_classification_says_why() -> None:
    assert [reason for reason, why in {**PERMANENT, **FIXABLE}.items() if not why.strip()] == []


def test_garbage_and_forged_bytes_are_permanent_and_registry_fixes_are_not() -> None:
    assert is_permanent("bad_magic")
    assert is_permanent("schema_mismatch")
    assert is_permanent("bad_signature")
    assert not is_permanent("unknown_key")
    assert not is_permanent("data_key_missing")


def test_a_reason_of_no_hub_stage_is_not_taken_as_permanent() -> None:
    # A connector's reasons (callback_unauthorized, bad_date) are not the hub's to judge.
    assert not is_permanent("callback_unauthorized")


def test_the_runbook_names_every_reason_replay_skips() -> None:
    runbook = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
    told = runbook.read_text(encoding="utf-8").split("Refused for good", 1)[1]
    refused_for_good = told.split("Replayable once fixed", 1)[0]

    assert [reason for reason in PERMANENT if f"`{reason}`" not in refused_for_good] == []
