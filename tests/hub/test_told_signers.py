"""A signer is told of a misplaced event once per event id, in a bounded memory."""

from __future__ import annotations

from streams.hub.told_signers import ToldSigners


def test_each_signer_and_event_is_told_once() -> None:
    told = ToldSigners()
    assert [told.first("bkn", "e1") for _ in range(3)] == [True, False, False]
    # Another event of the signer, and the same event id of another signer, are news.
    assert told.first("bkn", "e2")
    assert told.first("bawaslu", "e1")


def test_the_oldest_pair_is_forgotten_past_the_bound_and_a_repeat_keeps_a_pair() -> None:
    told = ToldSigners(capacity=2)
    assert told.first("bkn", "e1")
    assert told.first("bkn", "e2")
    assert not told.first("bkn", "e1")  # asked again: now the newest
    assert told.first("bkn", "e3")  # e2, the oldest, is forgotten
    assert not told.first("bkn", "e1")
    assert told.first("bkn", "e2")
