"""``kawal keys new`` and ``init`` as an operator runs them: private files only their owner reads.

Each key's printed entry registers, and the private half in the file matches it: a signature
verifies, and what is sealed to the encryption key opens with its file.
"""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from streams.cli import main
from streams.cli.exits import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from streams.domain.institutions import HUB_INSTITUTION, load_institutions
from streams.domain.keys import KeyEntry, KeyRegistry, load_key_registry
from tests.in_process import Done, kawal_here
from tests.keytools import opens

FEB = datetime(2027, 2, 1, tzinfo=UTC)


def run_kawal(home: Path, *args: str) -> Done:
    """``kawal keys new ARGS`` with ``KAWAL_HOME`` set to ``home``, in this process."""
    return kawal_here({"KAWAL_HOME": str(home)}, "keys", "new", *args)


def private_files(folder: Path) -> list[Path]:
    """The private key files in ``folder`` (not below it), each 0600 in a folder of mode 0700."""
    files = sorted(folder.glob("*.pem"))
    for pem in files:
        assert stat.S_IMODE(pem.stat().st_mode) == 0o600
        assert stat.S_IMODE(pem.parent.stat().st_mode) == 0o700
        assert b"PRIVATE KEY" in pem.read_bytes()
    return files


def printed_registry(tmp_path: Path, stdout: str) -> KeyRegistry:
    """The registry of what ``kawal keys new`` printed, read as the hub reads it."""
    assert "PRIVATE" not in stdout
    registry_path = tmp_path / "keys.toml"
    registry_path.write_text(stdout, encoding="utf-8")
    return load_key_registry(registry_path)


def test_new_keys_are_private_and_their_entries_register(tmp_path: Path) -> None:
    done = run_kawal(tmp_path, "bkn", "--valid-from", "2027-01-01T00:00:00+07:00")

    assert done.returncode == EXIT_OK, done.stderr
    [signing] = private_files(tmp_path / "keys" / "bkn")
    [encryption] = private_files(tmp_path / "keys" / "bkn" / "encryption")
    registry = printed_registry(tmp_path, done.stdout)
    entry = registry.key_for("bkn", f"bkn/{signing.stem}", FEB)
    assert isinstance(entry, KeyEntry)
    sealed_to = registry.encryption_entry(f"bkn/{encryption.stem}")
    assert sealed_to is not None
    assert registry.encryption_key("bkn", FEB) == sealed_to
    private = serialization.load_pem_private_key(encryption.read_bytes(), password=None)
    assert isinstance(private, X25519PrivateKey)
    assert opens(sealed_to.public_key, private)


@pytest.mark.parametrize(("use", "other"), [("encryption", "signing"), ("signing", "encryption")])
def test_use_makes_one_kind_of_key_only(tmp_path: Path, use: str, other: str) -> None:
    done = run_kawal(tmp_path, "bkn", "--use", use)

    assert done.returncode == EXIT_OK, done.stderr
    folder = tmp_path / "keys" / "bkn"
    signing, encryption = private_files(folder), private_files(folder / "encryption")
    assert (len(signing), len(encryption)) == ((1, 0) if use == "signing" else (0, 1))
    # Made on the way to an encryption key's folder, the institution's folder is private too.
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert done.stdout.count("[[key]]") == 1
    assert f'use = "{use}"' in done.stdout
    assert f'use = "{other}"' not in done.stdout
    registry = printed_registry(tmp_path, done.stdout)
    assert len(registry.entries()) == len(signing)
    assert len(registry.encryption_entries()) == len(encryption)
    # The advice is the key's own: an encryption key's spoke of signing.
    advice = {"signing": "A signing key signs events", "encryption": "is sealed to this"}
    assert advice[use] in done.stdout
    assert advice[other] not in done.stdout


def test_an_unknown_use_is_a_usage_error(tmp_path: Path) -> None:
    done = run_kawal(tmp_path, "bkn", "--use", "both")

    assert done.returncode == EXIT_USAGE
    assert "invalid choice" in done.stderr
    assert not (tmp_path / "keys").exists()


def test_init_makes_both_kinds_for_every_principal_and_lists_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path))
    principals = {HUB_INSTITUTION, *(inst.id for inst in load_institutions())}

    assert main(["keys", "init", "--json"]) == EXIT_OK
    made = json.loads(capsys.readouterr().out)

    registry = load_key_registry(Path(made["registry"]))
    signing = {entry.id: entry.institution for entry in registry.entries()}
    encryption = {entry.id: entry.institution for entry in registry.encryption_entries()}
    assert sorted(made["new_keys"]) == sorted([*signing, *encryption])
    assert set(signing.values()) == set(encryption.values()) == principals
    assert len(signing) == len(encryption) == len(principals)
    assert main(["keys", "init", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["new_keys"] == []


def test_the_hub_gets_a_key_and_an_unknown_institution_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path))

    assert main(["keys", "new", "kawal"]) == EXIT_OK
    assert main(["keys", "new", "nobody.9999"]) == EXIT_ERROR

    assert "not in the institutions registry" in capsys.readouterr().err
    assert not (tmp_path / "keys" / "nobody.9999").exists()


def test_an_existing_key_is_never_overwritten(tmp_path: Path) -> None:
    from streams.local.keyring import KeyFileError, write_private_key

    path = tmp_path / "keys" / "bkn" / "k.pem"
    write_private_key(path, b"first")
    with pytest.raises(KeyFileError, match="never overwritten"):
        write_private_key(path, b"second")
    assert path.read_bytes() == b"first"


def test_a_symlinked_key_folder_is_refused(tmp_path: Path) -> None:
    from streams.local.keyring import KeyFileError, write_private_key

    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "bkn").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(KeyFileError, match="symbolic link"):
        write_private_key(tmp_path / "bkn" / "k.pem", b"key")
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["bkn", "--valid-from", "2027-01-01T00:00:00"],
        ["bkn", "--valid-from", "tomorrow"],
        ["bkn", "--valid-until", "2027-13-01"],
    ],
)
def test_validity_without_an_offset_is_a_usage_error(tmp_path: Path, args: list[str]) -> None:
    done = run_kawal(tmp_path, *args)
    assert done.returncode == EXIT_USAGE
    assert "a date (2027-01-01: 00:00 UTC) or a date-time with its offset" in done.stderr


def test_a_plain_date_is_its_start_at_midnight_utc(tmp_path: Path) -> None:
    done = run_kawal(
        tmp_path,
        "bkn",
        "--use",
        "signing",
        "--valid-from",
        "2027-01-01",
        "--valid-until",
        "2027-03-01",
    )

    assert done.returncode == EXIT_OK, done.stderr
    [signing] = private_files(tmp_path / "keys" / "bkn")
    registry = printed_registry(tmp_path, done.stdout)
    key_id = f"bkn/{signing.stem}"
    start, end = datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC)
    valid_at = [start - timedelta(seconds=1), start, end - timedelta(seconds=1), end]
    found = [isinstance(registry.key_for("bkn", key_id, moment), KeyEntry) for moment in valid_at]
    assert found == [False, True, True, False]


def test_an_end_before_the_start_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path))
    args = [
        "--valid-from",
        "2027-02-01T00:00:00+00:00",
        "--valid-until",
        "2027-01-01T00:00:00+00:00",
    ]
    assert main(["keys", "new", "bkn", *args]) == EXIT_ERROR


def test_new_keys_say_which_registry_to_add_them_to_and_that_nothing_restarts(
    tmp_path: Path,
) -> None:
    registry = tmp_path / "keys" / "registry.toml"
    registry.parent.mkdir(mode=0o700)
    registry.write_text("", encoding="utf-8")

    done = run_kawal(tmp_path, "inspektorat.3374", "--valid-from", "2027-01-01")

    assert done.returncode == EXIT_OK, done.stderr
    assert f"# add these entries to the key registry in force, {registry}," in done.stdout
    assert "nothing to restart: the hub's worker and sink and the connectors read it" in done.stdout
    assert "events dated from 2027-01-01T00:00:00+00:00 on" in done.stdout
    assert len(printed_registry(tmp_path, done.stdout).entries()) == 1
