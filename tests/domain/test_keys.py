"""The dated key registry: rotation with overlapping validity, revocation, every refusal."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from streams.domain.keys import (
    KeyEntry,
    KeyProblem,
    KeyRefusal,
    KeyRegistryError,
    load_key_registry,
    new_key_pair,
)

JAN = datetime(2027, 1, 1, tzinfo=UTC)
FEB = datetime(2027, 2, 1, tzinfo=UTC)
MAR = datetime(2027, 3, 1, tzinfo=UTC)


def registry_file(tmp_path: Path, *tables: str) -> Path:
    path = tmp_path / "keys.toml"
    path.write_text("\n".join(tables), encoding="utf-8")
    return path


def rotated(tmp_path: Path) -> tuple[Path, str, str]:
    """bkn's key of January to March, and its successor from February (overlap: February)."""
    old = new_key_pair("bkn", JAN, MAR)
    new = new_key_pair("bkn", FEB)
    return registry_file(tmp_path, old.registry_text(), new.registry_text()), old.key_id, new.key_id


def test_printed_entries_read_back_with_the_public_half_of_the_private_key(tmp_path: Path) -> None:
    key = new_key_pair("bkn", JAN)
    registry = load_key_registry(registry_file(tmp_path, key.registry_text()))

    entry = registry.key_for("bkn", key.key_id, FEB)

    assert isinstance(entry, KeyEntry)
    private = serialization.load_pem_private_key(key.private_pem, password=None)
    assert isinstance(private, Ed25519PrivateKey)
    signature = private.sign(b"event")
    entry.public_key.verify(signature, b"event")  # raises if the halves do not match


def test_rotation_accepts_both_keys_in_the_overlap_and_only_the_new_one_after(
    tmp_path: Path,
) -> None:
    path, old, new = rotated(tmp_path)
    registry = load_key_registry(path)
    overlap = FEB + timedelta(days=3)

    assert {entry.id for entry in registry.valid_keys("bkn", overlap)} == {old, new}
    assert isinstance(registry.key_for("bkn", old, overlap), KeyEntry)
    assert isinstance(registry.key_for("bkn", new, overlap), KeyEntry)
    expired = registry.key_for("bkn", old, MAR)
    assert isinstance(expired, KeyRefusal)
    assert expired.problem is KeyProblem.EXPIRED
    early = registry.key_for("bkn", new, JAN)
    assert isinstance(early, KeyRefusal)
    assert early.problem is KeyProblem.NOT_YET_VALID
    assert [entry.id for entry in registry.valid_keys("bkn", MAR)] == [new]


def test_a_revoked_key_vouches_before_its_revocation_and_never_after(tmp_path: Path) -> None:
    key = new_key_pair("ppk.3374", JAN)
    revoked = key.registry_text() + (
        'revoked_at = 2027-02-01T00:00:00+00:00\nreason = "operator laptop lost"\n'
    )
    registry = load_key_registry(registry_file(tmp_path, revoked))

    assert isinstance(
        registry.key_for("ppk.3374", key.key_id, FEB - timedelta(seconds=1)), KeyEntry
    )
    refusal = registry.key_for("ppk.3374", key.key_id, FEB)
    assert isinstance(refusal, KeyRefusal)
    assert refusal.problem is KeyProblem.REVOKED
    assert "operator laptop lost" in refusal.detail


def test_an_unknown_key_and_another_institutions_key_are_refused(tmp_path: Path) -> None:
    key = new_key_pair("bkn", JAN)
    registry = load_key_registry(registry_file(tmp_path, key.registry_text()))

    unknown = registry.key_for("bkn", "bkn/0000000000000000", FEB)
    borrowed = registry.key_for("ppk.3374", key.key_id, FEB)

    assert isinstance(unknown, KeyRefusal)
    assert unknown.problem is KeyProblem.UNKNOWN
    assert isinstance(borrowed, KeyRefusal)
    assert borrowed.problem is KeyProblem.OTHER_INSTITUTION
    assert {problem.value for problem in KeyProblem} == {
        "unknown_key",
        "key_of_another_institution",
        "key_not_yet_valid",
        "key_expired",
        "key_revoked",
    }


def test_the_bundled_registry_reads() -> None:
    assert len(load_key_registry()) >= 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('private_key = "x"\n', "public keys only"),
        ("revoked_at = 2027-02-01T00:00:00+00:00\n", "needs the reason"),
        ("valid_until = 2026-01-01T00:00:00+00:00\n", "after valid_from"),
    ],
)
def test_unusable_entries_are_refused_with_what_to_fix(
    tmp_path: Path, extra: str, message: str
) -> None:
    key = new_key_pair("bkn", JAN)
    with pytest.raises(KeyRegistryError, match=message):
        load_key_registry(registry_file(tmp_path, key.registry_text() + extra))


def test_bad_public_keys_dates_and_duplicates_are_refused(tmp_path: Path) -> None:
    short = base64.b64encode(bytes(31)).decode()
    good = new_key_pair("bkn", JAN).entry["public_key"]
    bad = [
        f'[[key]]\nid = "a"\ninstitution = "bkn"\npublic_key = "{short}"\n'
        "valid_from = 2027-01-01T00:00:00+00:00\n",
        '[[key]]\nid = "b"\ninstitution = "bkn"\npublic_key = "not base64!"\n'
        "valid_from = 2027-01-01T00:00:00+00:00\n",
        f'[[key]]\nid = "c"\ninstitution = "bkn"\npublic_key = "{good}"\nvalid_from = 2027-01-01\n',
        '[[key]]\nid = "d"\ninstitution = "bkn"\n',
    ]
    with pytest.raises(KeyRegistryError) as raised:
        load_key_registry(registry_file(tmp_path, *bad))
    text = str(raised.value)
    for expected in (
        "#1: public_key has 31 bytes",
        "#2: public_key is not base64",
        "#3: valid_from must be a TOML date-time with its offset",
        "#4: missing",
    ):
        assert expected in text
    twice = new_key_pair("bkn", JAN).registry_text()
    with pytest.raises(KeyRegistryError, match="registered twice"):
        load_key_registry(registry_file(tmp_path, twice, twice))
    with pytest.raises(KeyRegistryError, match="cannot read the key registry"):
        load_key_registry(tmp_path / "missing.toml")
