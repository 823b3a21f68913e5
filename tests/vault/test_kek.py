"""The KEK ring: the newest wraps, all unwrap, and a wrapped key opens only for its case."""

from __future__ import annotations

import base64
import dataclasses
import os

import pytest

from streams.vault.kek import KEK_ID, KekError, KekRing, WrappedKey, new_kek

CASE = "0b5c6a1e-0000-4000-8000-000000000001"
OTHER_CASE = "0b5c6a1e-0000-4000-8000-000000000002"


def test_a_data_key_round_trips_under_the_newest_kek() -> None:
    old, new = new_kek(), new_kek()
    ring = KekRing([old, new])
    dek = os.urandom(32)

    wrapped = ring.wrap(CASE, dek)

    assert wrapped.kek_id == new[0] == ring.current_id
    assert ring.unwrap(CASE, wrapped) == dek
    assert dek not in wrapped.wrapped
    assert ring.wrap(CASE, dek) != wrapped  # a fresh nonce each time


def test_a_key_wrapped_under_an_older_kek_still_unwraps() -> None:
    old = new_kek()
    dek = os.urandom(32)
    wrapped = KekRing([old]).wrap(CASE, dek)

    assert KekRing([old, new_kek()]).unwrap(CASE, wrapped) == dek


def test_an_unknown_kek_id_is_named_and_no_key_shown() -> None:
    gone = new_kek()
    wrapped = KekRing([gone]).wrap(CASE, os.urandom(32))
    ring = KekRing([new_kek()])

    with pytest.raises(KekError, match=f"KEK '{gone[0]}', which is not in the ring") as refused:
        ring.unwrap(CASE, wrapped)
    assert base64.b64encode(gone[1]).decode() not in str(refused.value)
    assert gone[1].hex() not in str(refused.value)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda w: dataclasses.replace(w, wrapped=_flip(w.wrapped, 20)), id="bit"),
        pytest.param(lambda w: dataclasses.replace(w, wrapped=_flip(w.wrapped, 3)), id="nonce"),
        pytest.param(lambda w: dataclasses.replace(w, wrapped=w.wrapped[:-1]), id="truncated"),
        pytest.param(lambda w: dataclasses.replace(w, wrapped=w.wrapped[:5]), id="stub"),
    ],
)
def test_an_altered_wrapped_key_is_refused(tamper: object) -> None:
    ring = KekRing([new_kek()])
    wrapped = ring.wrap(CASE, os.urandom(32))
    assert callable(tamper)

    with pytest.raises(KekError, match="does not unwrap"):
        ring.unwrap(CASE, tamper(wrapped))


def test_a_wrapped_key_opens_for_its_own_case_only() -> None:
    ring = KekRing([new_kek()])
    wrapped = ring.wrap(CASE, os.urandom(32))

    with pytest.raises(KekError, match=f"case {OTHER_CASE} does not unwrap"):
        ring.unwrap(OTHER_CASE, wrapped)


def test_a_wrapped_key_relabelled_with_another_kek_id_is_refused() -> None:
    (first_id, key), second = new_kek(), new_kek()
    # The same key bytes under two ids: only the id bound at wrapping opens it.
    ring = KekRing([(first_id, key), (second[0], key)])
    wrapped = ring.wrap(CASE, os.urandom(32))

    with pytest.raises(KekError, match="does not unwrap"):
        ring.unwrap(CASE, WrappedKey(first_id, wrapped.wrapped))


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ([], "at least one"),
        ([("kek-a", os.urandom(16))], "is 16 bytes"),
        ([("kek-a", os.urandom(32)), ("kek-a", os.urandom(32))], "listed twice"),
        ([("", os.urandom(32))], "KEK 1: its id must be"),
        ([("kek-a", os.urandom(32)), ("a:b", os.urandom(32))], "KEK 2: its id must be"),
        ([("a,b", os.urandom(32))], "its id must be"),
    ],
)
def test_a_malformed_ring_is_refused(keys: list[tuple[str, bytes]], message: str) -> None:
    with pytest.raises(KekError, match=message):
        KekRing(keys)


def test_only_32_byte_data_keys_are_wrapped() -> None:
    with pytest.raises(KekError, match="a data key is 32 bytes"):
        KekRing([new_kek()]).wrap(CASE, os.urandom(16))


def test_a_ring_shows_ids_never_keys() -> None:
    kek_id, key = new_kek()
    ring = KekRing([(kek_id, key)])

    assert kek_id in repr(ring)
    assert base64.b64encode(key).decode() not in repr(ring)
    assert key.hex() not in repr(ring)
    assert "wrapped" not in repr(ring.wrap(CASE, os.urandom(32)))


def test_new_keks_have_distinct_valid_ids() -> None:
    made = [new_kek() for _ in range(50)]

    assert len({kek_id for kek_id, _ in made}) == 50
    assert all(KEK_ID.match(kek_id) and len(key) == 32 for kek_id, key in made)


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 1]) + data[index + 1 :]
