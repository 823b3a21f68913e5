"""Private encryption keys in a key ring: what opens data sealed to an institution, and refusals.

Each key is proven by an HPKE round trip: what is sealed to the public key the registry lists
opens with the private key the ring hands out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from schemas.errors import KawalError
from streams.domain.decryption_keys import DecryptionKeyError
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keyring import KeyRing
from streams.domain.keys import (
    EncryptionKeyEntry,
    KeyRegistry,
    NewKey,
    load_key_registry,
    new_encryption_key_pair,
    new_key_pair,
)
from tests.keytools import opens

JAN = datetime(2027, 1, 1, tzinfo=UTC)
FEB = datetime(2027, 2, 1, tzinfo=UTC)
MAR = datetime(2027, 3, 1, tzinfo=UTC)


def ring_holding(
    folder: Path, *keys: NewKey, registered: tuple[NewKey, ...] | None = None
) -> KeyRing:
    """A ring over ``folder`` holding ``keys``, registering them (or ``registered``)."""
    for key in keys:
        path = key.path_in(folder)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(key.private_pem)
    listed = keys if registered is None else registered
    registry = folder / "registry.toml"
    registry.write_text("\n".join(key.registry_text() for key in listed), encoding="utf-8")
    return KeyRing(folder, load_key_registry(registry))


def sealed_entry(ring: KeyRing, institution: str, moment: datetime) -> EncryptionKeyEntry:
    entry = ring.registry.encryption_key(institution, moment)
    assert isinstance(entry, EncryptionKeyEntry)
    return entry


def test_the_private_key_from_its_file_opens_what_was_sealed_to_the_registered_key(
    tmp_path: Path,
) -> None:
    key = new_encryption_key_pair("bkn", JAN)
    ring = ring_holding(tmp_path, key, new_key_pair("bkn", JAN))
    entry = sealed_entry(ring, "bkn", FEB)

    private = ring.decryption_key("bkn", entry.id)

    assert key.path_in(tmp_path) == tmp_path / "bkn" / "encryption" / f"{entry.id[4:]}.pem"
    assert opens(entry.public_key, private)
    assert ring.decryption_key("bkn", entry.id) is private  # read once
    # The signing key beside it is untouched by the encryption key in the subfolder.
    assert ring.signing_key("bkn", FEB).key_id != entry.id


def test_an_expired_key_still_opens_what_was_sealed_to_it(tmp_path: Path) -> None:
    old = new_encryption_key_pair("bkn", JAN, FEB)
    ring = ring_holding(tmp_path, old, new_encryption_key_pair("bkn", FEB))
    sealed_in_january = sealed_entry(ring, "bkn", JAN)
    assert sealed_in_january.id == old.key_id
    assert sealed_entry(ring, "bkn", MAR).id != old.key_id

    assert opens(sealed_in_january.public_key, ring.decryption_key("bkn", old.key_id))


def refusal_of(ring: KeyRing, institution: str, key_id: str) -> str:
    with pytest.raises(DecryptionKeyError) as raised:
        ring.decryption_key(institution, key_id)
    return str(raised.value)


def test_an_unregistered_key_is_refused_before_any_file_is_read(tmp_path: Path) -> None:
    key = new_encryption_key_pair("bkn", JAN)
    ring = ring_holding(tmp_path, key, registered=(new_key_pair("bkn", JAN),))

    message = refusal_of(ring, "bkn", key.key_id)

    assert f"key {key.key_id} is not registered in the key registry" in message
    assert "kawal keys new bkn --use encryption" in message
    # A key id from a sealed record names no file unless the registry lists it.
    assert "not registered" in refusal_of(ring, "bkn", "bkn/../../../etc/passwd")


def test_a_signing_key_opens_nothing(tmp_path: Path) -> None:
    signing = new_key_pair("bkn", JAN)
    ring = ring_holding(tmp_path, signing)

    assert "is a signing key, not an encryption key" in refusal_of(ring, "bkn", signing.key_id)


def test_another_institutions_key_is_refused(tmp_path: Path) -> None:
    key = new_encryption_key_pair("ppk.3374", JAN)
    ring = ring_holding(tmp_path, key)

    message = refusal_of(ring, "bkn", key.key_id)

    assert "encryption key of ppk.3374, not of bkn" in message


def test_a_registered_key_whose_file_is_not_here_names_the_folder(tmp_path: Path) -> None:
    key = new_encryption_key_pair("bkn", JAN)
    ring = ring_holding(tmp_path, registered=(key,))

    message = refusal_of(ring, "bkn", key.key_id)

    assert f"not in {tmp_path / 'bkn' / 'encryption'}" in message
    assert f"restore {key.key_id[4:]}.pem there from the backup of the keys folder" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            lambda: b"not a key", "is damaged (it holds no PEM private key)", id="garbage"
        ),
        pytest.param(
            lambda: new_key_pair("bkn", JAN).private_pem, "is not an X25519 private key", id="ed"
        ),
        pytest.param(
            lambda: new_encryption_key_pair("bkn", JAN).private_pem,
            "is not the private half of the registered key",
            id="another key",
        ),
    ],
)
def test_a_file_that_is_not_the_registered_private_key_is_refused(
    tmp_path: Path, content: Callable[[], bytes], expected: str
) -> None:
    key = new_encryption_key_pair("bkn", JAN)
    ring = ring_holding(tmp_path, key)
    key.path_in(tmp_path).write_bytes(content())

    message = refusal_of(ring, "bkn", key.key_id)

    assert expected in message
    assert str(key.path_in(tmp_path)) in message
    assert "PRIVATE KEY" not in message  # the file's name, never its content


def test_a_generated_ring_holds_an_encryption_key_per_principal() -> None:
    ring = KeyRing.generated([HUB_INSTITUTION, "bkn"], JAN)

    for principal in (HUB_INSTITUTION, "bkn"):
        entry = sealed_entry(ring, principal, FEB)
        assert opens(entry.public_key, ring.decryption_key(principal, entry.id))
        assert ring.signing_key(principal, FEB).key_id != entry.id
    assert len(ring.registry.entries()) == len(ring.registry.encryption_entries()) == 2
    hub = sealed_entry(ring, HUB_INSTITUTION, FEB)
    assert "not of bkn" in refusal_of(ring, "bkn", hub.id)


def test_the_error_is_a_kawal_error() -> None:
    ring = KeyRing(Path("/nonexistent"), KeyRegistry([]))
    with pytest.raises(KawalError):
        ring.decryption_key("bkn", "bkn/0000000000000000")
