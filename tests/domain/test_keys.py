"""The dated key registry: rotation with overlapping validity, revocation, every refusal.

Signing keys and encryption keys share one registry and one set of dates; neither kind ever
passes for the other.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from streams.domain.keys import (
    EncryptionKeyEntry,
    KeyEntry,
    KeyProblem,
    KeyRefusal,
    KeyRegistry,
    KeyRegistryError,
    KeyUse,
    NewKey,
    load_key_registry,
    new_encryption_key_pair,
    new_key_pair,
)
from tests.keytools import opens

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


def test_a_key_refused_for_its_dates_names_the_time_asked_and_its_unit(tmp_path: Path) -> None:
    """An event dated in seconds (1970) is told its own time and that event_time is in ms."""
    path, old, new = rotated(tmp_path)
    registry = load_key_registry(path)
    in_seconds = datetime.fromtimestamp(JAN.timestamp() / 1000, UTC)

    early = registry.key_for("bkn", new, in_seconds)
    late = registry.key_for("bkn", old, MAR + timedelta(milliseconds=5))

    assert isinstance(early, KeyRefusal)
    assert f"not at {in_seconds.isoformat(timespec='milliseconds')}" in early.detail
    assert "(envelope.event_time, in milliseconds since the Unix epoch)" in early.detail
    assert "register a key made with `kawal keys new INSTITUTION --valid-from` that time" in (
        early.detail
    )
    assert isinstance(late, KeyRefusal)
    assert "before 2027-03-01T00:00:00.005+00:00" in late.detail


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
    assert refusal.detail.startswith(f"key {key.key_id} was revoked at 2027-02-01T00:00:00+00:00;")
    # The reason is the operators' (in the entry), never told whoever uses the key.
    assert "laptop" not in refusal.detail
    revoked_entry = registry.signing_entry(key.key_id)
    assert revoked_entry is not None
    assert revoked_entry.reason == "operator laptop lost"


def test_an_unknown_key_and_another_institutions_key_are_refused(tmp_path: Path) -> None:
    key = new_key_pair("bkn", JAN)
    registry = load_key_registry(registry_file(tmp_path, key.registry_text()))

    unknown = registry.key_for("bkn", "bkn/0000000000000000", FEB)
    borrowed = registry.key_for("ppk.3374", key.key_id, FEB)

    assert isinstance(unknown, KeyRefusal)
    assert unknown.problem is KeyProblem.UNKNOWN
    # Connectors read the registry again before each pass (InboundRunner, OutboundRunner), not
    # only when they start: the reason says so, as docs/operations.md, Rotate keys, does.
    assert "connectors before their next pass" in unknown.detail
    assert "when they start" not in unknown.detail
    assert "kawal dlq replay --reason unknown_key" in unknown.detail
    assert isinstance(borrowed, KeyRefusal)
    assert borrowed.problem is KeyProblem.OTHER_INSTITUTION
    assert {problem.value for problem in KeyProblem} == {
        "unknown_key",
        "key_of_another_institution",
        "key_not_yet_valid",
        "key_expired",
        "key_revoked",
        "no_encryption_key",
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
    too_long = (
        new_key_pair("bkn", JAN).registry_text().replace('id = "bkn/', f'id = "bkn/{"0" * 130}', 1)
    )
    with pytest.raises(KeyRegistryError, match="a key id has 1 to 128"):
        load_key_registry(registry_file(tmp_path, too_long))
    twice = new_key_pair("bkn", JAN).registry_text()
    with pytest.raises(KeyRegistryError, match="registered twice"):
        load_key_registry(registry_file(tmp_path, twice, twice))
    # The advice names the file read and fits the local registry too: nothing to unset there.
    with pytest.raises(KeyRegistryError, match="cannot read the key registry") as unreadable:
        load_key_registry(tmp_path / "missing.toml")
    assert str(tmp_path / "missing.toml") in str(unreadable.value)
    assert "unset" not in str(unreadable.value)


def registry_of(tmp_path: Path, *keys: NewKey, extra: str = "") -> KeyRegistry:
    """The registry of the printed entries of ``keys``, ``extra`` added to the last one."""
    tables = [key.registry_text() for key in keys]
    tables[-1] += extra
    return load_key_registry(registry_file(tmp_path, *tables))


def test_an_encryption_entry_reads_back_with_the_public_half_of_the_private_key(
    tmp_path: Path,
) -> None:
    key = new_encryption_key_pair("bkn", JAN)
    assert 'use = "encryption"' in key.registry_text()
    registry = registry_of(tmp_path, key)

    entry = registry.encryption_entry(key.key_id)

    assert isinstance(entry, EncryptionKeyEntry)
    assert (entry.institution, entry.use, entry.valid_from) == ("bkn", KeyUse.ENCRYPTION, JAN)
    private = serialization.load_pem_private_key(key.private_pem, password=None)
    assert isinstance(private, X25519PrivateKey)
    assert opens(entry.public_key, private)
    assert opens(entry.public_key, X25519PrivateKey.generate()) is False
    assert [e.id for e in registry.encryption_entries()] == [key.key_id]
    assert registry.entries() == []


def test_an_entry_without_use_is_a_signing_key_as_in_older_registries(tmp_path: Path) -> None:
    key = new_key_pair("bkn", JAN)
    older = key.registry_text().replace('use = "signing"\n', "")
    assert "use" not in older

    registry = load_key_registry(registry_file(tmp_path, older))

    assert isinstance(registry.key_for("bkn", key.key_id, FEB), KeyEntry)
    assert registry.encryption_entries() == []


def test_each_kind_of_key_is_listed_apart(tmp_path: Path) -> None:
    signing, encryption = new_key_pair("bkn", JAN), new_encryption_key_pair("bkn", JAN)
    registry = registry_of(tmp_path, signing, encryption)

    assert len(registry) == 2
    assert [entry.id for entry in registry.entries()] == [signing.key_id]
    assert [entry.id for entry in registry.valid_keys("bkn", FEB)] == [signing.key_id]
    assert [entry.id for entry in registry.encryption_entries()] == [encryption.key_id]
    assert registry.encryption_entry(signing.key_id) is None
    assert registry.encryption_entry("bkn/0000000000000000") is None


def test_an_encryption_key_never_vouches_for_a_signature(tmp_path: Path) -> None:
    key = new_encryption_key_pair("bkn", JAN)
    registry = registry_of(tmp_path, key)

    refusal = registry.key_for("bkn", key.key_id, FEB)

    assert isinstance(refusal, KeyRefusal)
    assert refusal.problem is KeyProblem.UNKNOWN
    assert "is an encryption key" in refusal.detail


def test_data_is_sealed_to_the_later_of_two_rotated_encryption_keys(tmp_path: Path) -> None:
    old = new_encryption_key_pair("bkn", JAN, MAR)
    new = new_encryption_key_pair("bkn", FEB)
    registry = registry_of(tmp_path, new, old, new_key_pair("bkn", MAR))

    def sealed_to(moment: datetime) -> str:
        entry = registry.encryption_key("bkn", moment)
        assert isinstance(entry, EncryptionKeyEntry)
        return entry.id

    assert sealed_to(JAN) == old.key_id
    assert sealed_to(FEB + timedelta(days=3)) == new.key_id
    assert sealed_to(MAR) == new.key_id
    # Old records still name the old key, whatever its validity now.
    expired = registry.encryption_entry(old.key_id)
    assert expired is not None
    assert expired.problem_at(MAR) is not None


@pytest.mark.parametrize(
    ("keys", "extra"),
    [
        pytest.param((), "", id="none registered"),
        pytest.param((new_key_pair("bkn", JAN),), "", id="signing key only"),
        pytest.param((new_encryption_key_pair("ppk.3374", JAN),), "", id="another's"),
        pytest.param(
            (new_encryption_key_pair("bkn", JAN),),
            "valid_until = 2027-02-01T00:00:00+00:00\n",
            id="expired",
        ),
        pytest.param(
            (new_encryption_key_pair("bkn", JAN),),
            'revoked_at = 2027-02-01T00:00:00+00:00\nreason = "key file leaked"\n',
            id="revoked",
        ),
        pytest.param((new_encryption_key_pair("bkn", MAR),), "", id="not yet valid"),
    ],
)
def test_without_a_valid_encryption_key_nothing_is_sealed(
    tmp_path: Path, keys: tuple[NewKey, ...], extra: str
) -> None:
    registry = registry_of(tmp_path, *keys, extra=extra) if keys else KeyRegistry([])

    refusal = registry.encryption_key("bkn", FEB)

    assert isinstance(refusal, KeyRefusal)
    assert refusal.problem is KeyProblem.NO_ENCRYPTION_KEY
    assert "kawal keys new bkn --use encryption" in refusal.detail


def test_a_refused_encryption_key_says_to_seal_to_the_current_one(tmp_path: Path) -> None:
    key = new_encryption_key_pair("bkn", JAN)
    revoked = 'revoked_at = 2027-02-01T00:00:00+00:00\nreason = "key file leaked"\n'
    entry = registry_of(tmp_path, key, extra=revoked).encryption_entry(key.key_id)
    assert entry is not None

    refusal = entry.problem_at(FEB)

    assert refusal is not None
    assert refusal.problem is KeyProblem.REVOKED
    assert "leaked" not in refusal.detail
    assert "seal to the institution's current encryption key" in refusal.detail


def test_bad_encryption_entries_are_refused_with_what_to_fix(tmp_path: Path) -> None:
    key = new_encryption_key_pair("bkn", JAN)
    short = base64.b64encode(bytes(31)).decode()
    bad = [
        key.registry_text().replace(str(key.entry["public_key"]), short),
        key.registry_text().replace('use = "encryption"', 'use = "both"'),
    ]

    with pytest.raises(KeyRegistryError) as raised:
        load_key_registry(registry_file(tmp_path, *bad))

    assert "#1: public_key has 31 bytes; an X25519 public key has 32" in str(raised.value)
    assert "#2: use must be one of ['signing', 'encryption']" in str(raised.value)
