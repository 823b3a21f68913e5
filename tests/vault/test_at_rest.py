"""Values sealed under a data key open only with that key and the same associated data."""

from __future__ import annotations

import os

import pytest

from streams.vault.at_rest import AtRestError, open_at_rest, seal_at_rest

AAD = b"case-1/event-1/reporter_name"


def test_a_sealed_value_opens_with_its_key_and_context() -> None:
    dek = os.urandom(32)

    sealed = seal_at_rest(dek, b"Budi Santoso", AAD)

    assert b"Budi" not in sealed
    assert open_at_rest(dek, sealed, AAD) == b"Budi Santoso"
    assert seal_at_rest(dek, b"Budi Santoso", AAD) != sealed  # a fresh nonce each time


def test_an_empty_value_seals_too() -> None:
    dek = os.urandom(32)
    assert open_at_rest(dek, seal_at_rest(dek, b"", AAD), AAD) == b""


@pytest.mark.parametrize(
    "opening",
    [
        pytest.param(lambda dek, sealed: (os.urandom(32), sealed, AAD), id="another key"),
        pytest.param(lambda dek, sealed: (dek, sealed, b"case-1/event-2/name"), id="another aad"),
        pytest.param(
            lambda dek, sealed: (dek, sealed[:-1] + bytes([sealed[-1] ^ 1]), AAD), id="tag"
        ),
        pytest.param(lambda dek, sealed: (dek, sealed[:12] + sealed[13:], AAD), id="cut"),
    ],
)
def test_a_wrong_key_context_or_altered_value_is_refused(opening: object) -> None:
    dek = os.urandom(32)
    sealed = seal_at_rest(dek, b"Budi Santoso", AAD)
    assert callable(opening)

    with pytest.raises(AtRestError, match="does not open") as refused:
        open_at_rest(*opening(dek, sealed))
    assert "Budi" not in str(refused.value)


def test_a_truncated_value_is_named_so() -> None:
    with pytest.raises(AtRestError, match="truncated"):
        open_at_rest(os.urandom(32), os.urandom(27), AAD)


@pytest.mark.parametrize("length", [0, 16, 24, 31, 33])
def test_only_256_bit_data_keys_seal_and_open(length: int) -> None:
    with pytest.raises(AtRestError, match="a data key is 32 bytes"):
        seal_at_rest(os.urandom(length), b"x", AAD)
    with pytest.raises(AtRestError, match="a data key is 32 bytes"):
        open_at_rest(os.urandom(length), os.urandom(40), AAD)
