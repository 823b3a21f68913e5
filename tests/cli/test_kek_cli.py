"""``kawal kek new|rewrap|list`` as an operator runs them: ids printed, never key material."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path

import pytest

from streams.cli import main
from streams.cli.exits import EXIT_ERROR, EXIT_OK
from streams.settings import Settings
from streams.vault.data_keys import DataKeyVault
from streams.vault.kek import KEK_ID
from streams.vault.kek_follow import followed_kek_ring
from streams.vault.kek_source import load_kek_ring
from tests.postgres import PostgresServer


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path / "home"))
    for name in ("KAWAL_KEK", "KAWAL_KEK_FILE", "KAWAL_VAULT_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


@pytest.fixture(params=["sqlite", "postgresql"])
def vault_url(request: pytest.FixtureRequest, home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The vault of ``home``: its SQLite file, or a PostgreSQL database in KAWAL_VAULT_URL."""
    if request.param == "sqlite":
        return Settings(home=home).effective_vault_url
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.create_database(f"vault_cli_{uuid.uuid4().hex[:10]}")
    monkeypatch.setenv("KAWAL_VAULT_URL", url)
    return url


def kek_keys(home: Path) -> list[str]:
    """The base64 keys of the home's KEK file, to look for in what the commands print."""
    text = (home / "keys" / "kek.toml").read_text(encoding="utf-8")
    return [entry["key"] for entry in tomllib.loads(text)["kek"]]


def kawal(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    printed = capsys.readouterr()
    return code, printed.out, printed.err


def test_kek_new_prints_only_the_id_of_a_private_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAWAL_")}
    env["KAWAL_HOME"] = str(tmp_path)
    command = [sys.executable, "-m", "streams.cli", "kek", "new"]

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == EXIT_OK, done.stderr
    kek_id = done.stdout.strip()
    assert KEK_ID.match(kek_id)
    path = tmp_path / "keys" / "kek.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [key] = kek_keys(tmp_path)
    assert key not in done.stdout + done.stderr
    assert "kawal kek rewrap" in done.stderr


def test_keys_init_makes_the_kek_file(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kawal(capsys, "keys", "init")[0] == EXIT_OK
    code, out, err = kawal(capsys, "kek", "list", "--json")
    assert code == EXIT_ERROR  # listed, but no vault yet to count data keys in
    assert "restore the vault from its backup (with no -wal or -shm file beside it)" in err
    assert "a hub never started has none yet" in err
    [row] = json.loads(out)["keks"]
    assert row["current"] is True
    assert row["data_keys"] is None


def test_rotation_new_rewrap_then_drop_the_old_kek(
    home: Path, vault_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kawal(capsys, "keys", "init")[0] == EXIT_OK
    [old_id] = load_kek_ring(Settings()).ids
    vault = DataKeyVault(vault_url, load_kek_ring(Settings()))
    vault.create_schema()
    cases = [str(uuid.uuid4()) for _ in range(5)]
    keys = vault.keys_for(cases, create=True)
    vault.close()

    code, out, _ = kawal(capsys, "kek", "new")
    assert code == EXIT_OK
    new_id = out.strip()
    code, out, _ = kawal(capsys, "kek", "list", "--json")
    assert code == EXIT_OK
    assert json.loads(out)["keks"] == [
        {"id": old_id, "current": False, "in_ring": True, "data_keys": 5},
        {"id": new_id, "current": True, "in_ring": True, "data_keys": 0},
    ]
    code, out, err = kawal(capsys, "kek", "rewrap")
    assert (code, out) == (EXIT_OK, "5\n")
    assert f"every data key is wrapped under {new_id}" in err
    code, out, _ = kawal(capsys, "kek", "list")
    assert code == EXIT_OK
    assert f"{old_id}  0 data keys\n" in out
    assert f"{new_id}  5 data keys  (current)\n" in out

    _drop_kek(home, old_id)
    without_old = DataKeyVault.open_existing(vault_url, load_kek_ring(Settings()))
    assert without_old.keys_for(cases, create=False) == keys
    without_old.close()
    assert kawal(capsys, "kek", "rewrap")[1] == "0\n"


def test_a_running_vault_takes_up_a_kek_added_and_outlives_the_old_one_s_removal(
    home: Path, vault_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # As a worker does across `kek new`, `kek rewrap` and the old KEK's removal, with no
    # restart: before, it wrapped on under the old KEK, then failed on the new one.
    kawal(capsys, "keys", "init")
    [old_id] = load_kek_ring(Settings()).ids
    running = DataKeyVault(vault_url, followed_kek_ring(Settings()))
    running.create_schema()
    before = str(uuid.uuid4())
    first = running.keys_for([before], create=True)

    new_id = kawal(capsys, "kek", "new")[1].strip()
    after = str(uuid.uuid4())
    second = running.keys_for([after], create=True)
    assert kawal(capsys, "kek", "rewrap")[0] == EXIT_OK
    listed = kawal(capsys, "kek", "list", "--json")[1]
    counts = {row["id"]: row["data_keys"] for row in json.loads(listed)["keks"]}
    _drop_kek(home, old_id)

    assert counts == {old_id: 0, new_id: 2}
    assert running.keys_for([before, after], create=False) == first | second
    running.close()


def test_listing_never_prints_key_material(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kawal(capsys, "kek", "new")
    kawal(capsys, "kek", "new")
    printed = "".join(kawal(capsys, "kek", "list")[1:]) + "".join(
        kawal(capsys, "kek", "list", "--json")[1:]
    )
    keys = kek_keys(home)
    assert len(keys) == 2
    for key in keys:
        assert key not in printed
        assert base64.b64decode(key).hex() not in printed
    assert "? data keys  (current)" in printed  # no vault yet: nothing counted
    assert "data keys not counted: no vault at" in printed


def test_a_kek_gone_from_the_ring_with_keys_is_flagged(
    home: Path, vault_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    kawal(capsys, "keys", "init")
    [old_id] = load_kek_ring(Settings()).ids
    vault = DataKeyVault(vault_url, load_kek_ring(Settings()))
    vault.create_schema()
    vault.keys_for([str(uuid.uuid4())], create=True)
    vault.close()
    kawal(capsys, "kek", "new")
    _drop_kek(home, old_id)

    code, out, err = kawal(capsys, "kek", "list")
    # Before, exit 0: a script watching the KEKs took the unreadable cases for a success.
    assert code == EXIT_ERROR
    assert f"{old_id}  1 data keys  (NOT IN THE RING" in out
    assert f"KEK {old_id} wraps 1 data keys and is not in the ring" in err
    code, _, err = kawal(capsys, "kek", "rewrap")
    assert code == EXIT_ERROR
    assert f"KEK '{old_id}', which is not in the ring" in err


def test_kek_commands_with_kawal_kek(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("KAWAL_KEK", f"kek-injected:{key}")

    code, _, err = kawal(capsys, "kek", "new")
    assert code == EXIT_ERROR
    assert "KAWAL_KEK is set" in err
    assert not (home / "keys" / "kek.toml").exists()
    code, out, err = kawal(capsys, "kek", "list", "--json")
    # The ring is listed; with no vault yet, nobody can tell which KEK wraps data keys.
    assert code == EXIT_ERROR
    assert "data keys not counted: no vault at" in err
    listed = json.loads(out)
    assert listed["source"] == "KAWAL_KEK"
    assert [row["id"] for row in listed["keks"]] == ["kek-injected"]
    assert key not in out


def test_refusals_exit_1_with_what_to_do(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kawal(capsys, "kek", "list", "--json")
    assert code == EXIT_ERROR
    assert "kawal kek new" in json.loads(out)["error"]
    assert "kawal keys init" in err
    kawal(capsys, "kek", "new")
    code, _, err = kawal(capsys, "kek", "rewrap")
    assert code == EXIT_ERROR
    assert "no vault at" in err
    (home / "keys" / "kek.toml").chmod(0o644)
    code, _, err = kawal(capsys, "kek", "list")
    assert code == EXIT_ERROR
    assert f"chmod 600 {home / 'keys' / 'kek.toml'}" in err


def _drop_kek(home: Path, kek_id: str) -> None:
    """Remove one KEK from the home's file, as an operator edits it."""
    path = home / "keys" / "kek.toml"
    entries = tomllib.loads(path.read_text(encoding="utf-8"))["kek"]
    kept = [entry for entry in entries if entry["id"] != kek_id]
    path.write_text(
        "".join(f'[[kek]]\nid = "{e["id"]}"\nkey = "{e["key"]}"\n\n' for e in kept),
        encoding="utf-8",
    )
