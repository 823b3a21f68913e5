"""``kawal keys new`` as an operator runs it: a private file only its owner reads, an entry."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from streams.cli import main
from streams.cli.exits import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from streams.domain.keys import KeyEntry, load_key_registry


def run_kawal(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, KAWAL_HOME=str(home))
    command = [sys.executable, "-m", "streams.cli", "keys", "new", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def test_a_new_key_is_private_and_its_entry_registers(tmp_path: Path) -> None:
    done = run_kawal(tmp_path, "bkn", "--valid-from", "2027-01-01T00:00:00+07:00")

    assert done.returncode == EXIT_OK, done.stderr
    [pem] = list((tmp_path / "keys" / "bkn").glob("*.pem"))
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert stat.S_IMODE(pem.parent.stat().st_mode) == 0o700
    assert b"PRIVATE KEY" in pem.read_bytes()
    entry_text = done.stdout.split("\n", 1)[1]
    assert "PRIVATE" not in done.stdout
    registry_path = tmp_path / "keys.toml"
    registry_path.write_text(entry_text, encoding="utf-8")
    key_id = f"bkn/{pem.stem}"
    entry = load_key_registry(registry_path).key_for(
        "bkn", key_id, datetime(2027, 2, 1, tzinfo=UTC)
    )
    assert isinstance(entry, KeyEntry)


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
        ["bkn", "--valid-from", "2027-01-01"],
        ["bkn", "--valid-from", "tomorrow"],
    ],
)
def test_validity_without_an_offset_is_a_usage_error(tmp_path: Path, args: list[str]) -> None:
    done = run_kawal(tmp_path, *args)
    assert done.returncode == EXIT_USAGE
    assert "with its offset" in done.stderr


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
