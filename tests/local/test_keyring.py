"""One machine's keys: ``ensure_local_keys`` gives every principal both kinds, once.

A home made before encryption keys existed (signing keys only, entries without ``use``) gets an
encryption key per principal on the next ``kawal keys init`` or ``kawal up``; its signing keys
and their entries stay byte for byte what they were.
"""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from streams.domain.decryption_keys import DecryptionKeyError
from streams.domain.institutions import HUB_INSTITUTION, load_institutions
from streams.domain.keys import EncryptionKeyEntry, new_key_pair
from streams.domain.signing import SigningKeyError
from streams.local.key_revocation import revoke_key
from streams.local.keyring import LOCAL_KEYS_VALID_FROM, ensure_local_keys, keyring_of
from streams.settings import Settings
from tests.keytools import opens

NOW = datetime(2027, 2, 1, tzinfo=UTC)
PRINCIPALS = {HUB_INSTITUTION, *(inst.id for inst in load_institutions())}


def old_home(home: Path) -> Settings:
    """A home as ``kawal keys init`` made it before encryption keys: signing keys only."""
    settings = Settings(home=home)
    tables = []
    for principal in sorted(PRINCIPALS):
        key = new_key_pair(principal, LOCAL_KEYS_VALID_FROM)
        path = key.path_in(settings.key_dir)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.write_bytes(key.private_pem)
        # As `kawal keys init` wrote them: a hub key others may read is set aside by every reader.
        path.chmod(0o600)
        tables.append(key.registry_text().replace('use = "signing"\n', ""))
    settings.local_key_registry.write_text("# old\n" + "\n".join(tables), encoding="utf-8")
    return settings


def test_an_old_home_gets_an_encryption_key_per_principal_and_keeps_its_signing_keys(
    tmp_path: Path,
) -> None:
    settings = old_home(tmp_path)
    before = settings.local_key_registry.read_text(encoding="utf-8")
    signing_files = {path: path.read_bytes() for path in settings.key_dir.glob("*/*.pem")}

    made = ensure_local_keys(settings)

    assert settings.local_key_registry.read_text(encoding="utf-8").startswith(before)
    assert {path: path.read_bytes() for path in settings.key_dir.glob("*/*.pem")} == signing_files
    ring = keyring_of(settings)
    assert {entry.id for entry in ring.registry.encryption_entries()} == set(made)
    for principal in PRINCIPALS:
        entry = ring.registry.encryption_key(principal, NOW)
        assert isinstance(entry, EncryptionKeyEntry)
        assert entry.valid_from == LOCAL_KEYS_VALID_FROM
        pem = settings.key_dir / principal / "encryption" / f"{entry.id.split('/')[1]}.pem"
        assert stat.S_IMODE(pem.stat().st_mode) == 0o600
        assert stat.S_IMODE(pem.parent.stat().st_mode) == 0o700
        assert opens(entry.public_key, ring.decryption_key(principal, entry.id))
        assert ring.signing_key(principal, NOW).key_id != entry.id
    assert len(made) == len(PRINCIPALS)
    assert ensure_local_keys(settings) == []


def test_a_new_home_gets_one_key_of_each_kind_per_principal(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)

    made = ensure_local_keys(settings)

    registry = keyring_of(settings).registry
    ids = [entry.id for entry in registry.entries()] + [
        entry.id for entry in registry.encryption_entries()
    ]
    assert sorted(made) == sorted(ids)
    assert sorted(entry.institution for entry in registry.entries()) == sorted(PRINCIPALS)
    assert sorted(entry.institution for entry in registry.encryption_entries()) == sorted(
        PRINCIPALS
    )


# -- what a missing key's message tells the operator to edit ----------------------------------

BEFORE_LOCAL_KEYS = LOCAL_KEYS_VALID_FROM - timedelta(days=1)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A one-machine home with its keys made, its local registry the one in force."""
    monkeypatch.delenv("KAWAL_KEYS_FILE", raising=False)
    made = Settings(home=tmp_path)
    ensure_local_keys(made)
    return made


def test_no_valid_key_names_the_local_registry_when_no_keys_file_is_set(
    settings: Settings,
) -> None:
    ring = keyring_of(settings)

    with pytest.raises(SigningKeyError) as refused:
        ring.signing_key(HUB_INSTITUTION, BEFORE_LOCAL_KEYS)
    with pytest.raises(DecryptionKeyError) as unopened:
        ring.decryption_key(HUB_INSTITUTION, "kawal/0123456789abcdef")

    for message in (str(refused.value), str(unopened.value)):
        assert f"add its entry to the key registry in force, {settings.local_key_registry}" in (
            message
        )
        assert "KAWAL_KEYS_FILE" not in message


def test_no_valid_key_names_the_keys_file_when_one_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_local_keys(Settings(home=tmp_path))
    keys_file = tmp_path / "elsewhere.toml"
    keys_file.write_bytes(Settings(home=tmp_path).local_key_registry.read_bytes())
    monkeypatch.setenv("KAWAL_KEYS_FILE", str(keys_file))

    with pytest.raises(SigningKeyError) as refused:
        keyring_of(Settings(home=tmp_path)).signing_key(HUB_INSTITUTION, BEFORE_LOCAL_KEYS)

    assert f"add its entry to the key registry in force, {keys_file}" in str(refused.value)


def test_no_valid_key_with_the_bundled_registry_says_to_set_a_keys_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KAWAL_KEYS_FILE", raising=False)

    with pytest.raises(SigningKeyError) as refused:
        keyring_of(Settings(home=tmp_path)).signing_key("bkn", NOW)

    message = str(refused.value)
    assert "add its entry to a key registry of the hub's own and set KAWAL_KEYS_FILE" in message
    assert "(the bundled streams/data/keys.toml is in force)" in message


def test_a_registered_key_not_yet_valid_at_the_event_s_time_is_named_with_its_dates(
    settings: Settings,
) -> None:
    # A key made today (`kawal keys new` dates it now) cannot sign a report dated this morning:
    # the message must say so, not to make a key that is already made and registered.
    ring = keyring_of(settings)
    [entry] = ring.registry.valid_keys("bkn", NOW)

    with pytest.raises(SigningKeyError) as refused:
        ring.signing_key("bkn", BEFORE_LOCAL_KEYS)

    message = str(refused.value)
    assert f"{entry.id} is registered valid from {entry.valid_from.isoformat()}" in message
    assert f"is valid at {BEFORE_LOCAL_KEYS.isoformat()}, the event's time" in message
    assert "--valid-from" in message


def test_a_key_revoked_since_signs_no_event_dated_before_its_revocation(
    settings: Settings,
) -> None:
    # The hub refuses what reaches it after a revocation, however early the event is dated:
    # before, a backlog read again after a leak was signed with the revoked key, and refused.
    [old] = keyring_of(settings).registry.valid_keys("bkn", NOW)
    leaked = datetime.now(UTC) - timedelta(hours=1)
    successor = new_key_pair("bkn", datetime.now(UTC))
    successor.path_in(settings.key_dir).write_bytes(successor.private_pem)
    with settings.local_key_registry.open("a", encoding="utf-8") as registry:
        registry.write("\n" + successor.registry_text())
    revoke_key(settings.local_key_registry, old.id, "drill", leaked)
    ring = keyring_of(settings)

    before_the_leak = leaked - timedelta(hours=1)
    with pytest.raises(SigningKeyError) as refused:
        ring.signing_key("bkn", before_the_leak)

    message = str(refused.value)
    assert f"{old.id} is registered valid from" in message
    assert f", revoked at {leaked.isoformat()}" in message
    assert "a key revoked signs nothing more, however early the event" in message
    assert ring.signing_key("bkn", datetime.now(UTC)).key_id == successor.key_id


def test_a_key_of_another_institution_in_the_folder_is_named_as_theirs(
    settings: Settings,
) -> None:
    # ppk.3374's key copied into bkn's folder: "in no entry of the key registry" said nothing
    # of whose it was.
    for path in (settings.key_dir / "bkn").glob("*.pem"):
        path.unlink()
    for path in (settings.key_dir / "ppk.3374").glob("*.pem"):
        (settings.key_dir / "bkn" / path.name).write_bytes(path.read_bytes())

    problem = keyring_of(settings).unusable("bkn")

    assert problem is not None
    assert problem.startswith(f"the private key in {settings.key_dir / 'bkn'} is ppk.3374's")
    assert "each institution signs with its own key" in problem


def test_a_usable_key_is_no_problem_and_none_held_is_said_at_once(settings: Settings) -> None:
    assert keyring_of(settings).unusable("bkn") is None
    for path in (settings.key_dir / "bkn").glob("*.pem"):
        path.unlink()

    problem = keyring_of(settings).unusable("bkn")

    assert problem is not None
    assert problem.startswith(f"no private key of bkn is in {settings.key_dir / 'bkn'}")


def test_a_private_key_in_no_registry_entry_is_named_by_its_id(
    settings: Settings,
) -> None:
    stray = new_key_pair("bkn", LOCAL_KEYS_VALID_FROM)
    for path in (settings.key_dir / "bkn").glob("*.pem"):
        path.unlink()
    stray.path_in(settings.key_dir).write_bytes(stray.private_pem)

    with pytest.raises(SigningKeyError) as refused:
        keyring_of(settings).signing_key("bkn", NOW)

    message = str(refused.value)
    assert f"({stray.key_id}) are in no entry of the key registry" in message
    assert f"add its entry to the key registry in force, {settings.local_key_registry}" in message
