"""KEKs from KAWAL_KEK or the KEK file: every malformed or unsafe source refused, no key shown."""

from __future__ import annotations

import base64
import os
import stat
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from streams.local.keyring import ensure_local_keys
from streams.settings import Settings
from streams.vault.data_keys import DataKeyVault
from streams.vault.kek import KekError, new_kek
from streams.vault.kek_source import add_kek, ensure_local_kek, load_kek_ring, ring_from_env

KEY = base64.b64encode(b"k" * 32).decode()
OTHER = base64.b64encode(b"o" * 32).decode()


def settings_of(home: Path, kek: str | None = None) -> Settings:
    # Settings read the environment; the tests set every KEK value they rely on.
    return Settings(home=home, kek=None if kek is None else SecretStr(kek), kek_file=None)


def kek_file(home: Path, text: str, mode: int = 0o600) -> Path:
    path = home / "keys" / "kek.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def entry(kek_id: str, key: str = KEY) -> str:
    return f'[[kek]]\nid = "{kek_id}"\nkey = "{key}"\n'


def refusal(settings: Settings) -> str:
    with pytest.raises(KekError) as refused:
        load_kek_ring(settings)
    message = str(refused.value)
    assert KEY not in message
    assert OTHER not in message
    return message


def test_the_file_lists_keks_oldest_first(tmp_path: Path) -> None:
    kek_file(tmp_path, entry("kek-old", OTHER) + entry("kek-new") + "\n")

    ring = load_kek_ring(settings_of(tmp_path))

    assert ring.ids == ["kek-old", "kek-new"]
    assert ring.current_id == "kek-new"


@pytest.mark.parametrize("mode", [0o400, 0o600])
def test_a_file_only_its_owner_reads_is_taken(tmp_path: Path, mode: int) -> None:
    kek_file(tmp_path, entry("kek-a"), mode)
    assert load_kek_ring(settings_of(tmp_path)).ids == ["kek-a"]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606, 0o700 | 0o020])
def test_a_file_others_can_open_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    path = kek_file(tmp_path, entry("kek-a"), mode)

    message = refusal(settings_of(tmp_path))

    assert f"chmod 600 {path}" in message


def test_a_symlinked_file_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere.toml"
    real.write_text(entry("kek-a"), encoding="utf-8")
    real.chmod(0o600)
    link = tmp_path / "keys" / "kek.toml"
    link.parent.mkdir()
    link.symlink_to(real)

    assert "symbolic link" in refusal(settings_of(tmp_path))


def test_a_folder_in_place_of_the_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "keys" / "kek.toml").mkdir(parents=True, mode=0o700)
    assert "not a regular file" in refusal(settings_of(tmp_path))


def test_a_binary_file_is_refused(tmp_path: Path) -> None:
    path = kek_file(tmp_path, "")
    path.write_bytes(b"\xff\xfe" + base64.b64decode(KEY))
    assert "not UTF-8 text" in refusal(settings_of(tmp_path))


def test_a_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    message = refusal(settings_of(tmp_path))

    assert f"no KEK file at {tmp_path / 'keys' / 'kek.toml'}" in message
    assert "kawal keys init" in message
    assert "kawal kek new" in message


def test_kawal_kek_file_names_another_file(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "keks.toml"
    path.parent.mkdir()
    path.write_text(entry("kek-elsewhere"), encoding="utf-8")
    path.chmod(0o600)

    ring = load_kek_ring(Settings(home=tmp_path, kek=None, kek_file=path))

    assert ring.ids == ["kek-elsewhere"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f'[[kek]]\nid = "kek-a"\nkey = {KEY}\n', "not valid TOML"),
        ("# nothing yet\n", "lists no [[kek]] entry"),
        ('kek = "kek-a"\n', "lists no [[kek]] entry"),
        ('[[kek]]\nid = "kek-a"\n', "entry 1 needs an id and a key"),
        (entry("kek-a") + f'[[kek]]\nkey = "{OTHER}"\n', "entry 2 needs an id and a key"),
        (entry("kek-a", "not base64!"), "entry 1: the key is not base64"),
        (entry("kek-a", base64.b64encode(b"s" * 16).decode()), "is 16 bytes"),
        (entry("kek-a") + entry("kek-a", OTHER), "listed twice"),
        (entry(KEY), "its id must be"),
        (entry("kek-a") + 'keys = "x"\n', "unknown fields ['keys']"),
        ('kek = ["kek-a"]\n', "entry 1 is not a table"),
    ],
)
def test_a_malformed_file_is_refused_without_showing_keys(
    tmp_path: Path, text: str, message: str
) -> None:
    kek_file(tmp_path, text)
    assert message in refusal(settings_of(tmp_path))


def test_kawal_kek_wins_over_the_file(tmp_path: Path) -> None:
    kek_file(tmp_path, entry("kek-file"))

    ring = load_kek_ring(settings_of(tmp_path, kek=f"kek-env:{KEY}"))

    assert ring.ids == ["kek-env"]


def test_kawal_kek_lists_several_newest_last() -> None:
    ring = ring_from_env(f" kek-1:{OTHER} , kek-2:{KEY}\n")
    assert (ring.ids, ring.current_id) == (["kek-1", "kek-2"], "kek-2")


def test_kawal_kek_is_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAWAL_KEK", f"kek-1:{KEY}")
    assert load_kek_ring(Settings(home=tmp_path)).ids == ["kek-1"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "set but empty"),
        ("  ", "set but empty"),
        (KEY, "entry 1 is not ID:BASE64"),
        (f"kek-1:{KEY},{OTHER}", "entry 2 is not ID:BASE64"),
        (f"kek-1:{KEY},", "entry 2 is not ID:BASE64"),
        ("kek-1:not*base64", "entry 1: the key is not base64"),
        (f"kek-1:{base64.b64encode(b'x' * 31).decode()}", "is 31 bytes"),
        (f":{KEY}", "KEK 1: its id must be"),
        (f"kek 1:{KEY}", "KEK 1: its id must be"),
        (f"kek-1:{KEY},kek-1:{OTHER}", "listed twice"),
    ],
)
def test_a_malformed_kawal_kek_is_refused_without_showing_keys(
    tmp_path: Path, value: str, message: str
) -> None:
    assert message in refusal(settings_of(tmp_path, kek=value))


def test_the_local_kek_file_is_made_once_and_private(tmp_path: Path) -> None:
    settings = settings_of(tmp_path)

    made = ensure_local_kek(settings)

    path = tmp_path / "keys" / "kek.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_kek_ring(settings).ids == [made]
    before = path.read_bytes()
    assert ensure_local_kek(settings) is None
    assert path.read_bytes() == before


def test_no_local_file_is_made_when_kawal_kek_is_set(tmp_path: Path) -> None:
    assert ensure_local_kek(settings_of(tmp_path, kek=f"kek-1:{KEY}")) is None
    assert not (tmp_path / "keys" / "kek.toml").exists()


def test_the_local_keys_of_a_machine_include_the_kek_file(tmp_path: Path) -> None:
    settings = settings_of(tmp_path)

    ensure_local_keys(settings)

    assert len(load_kek_ring(settings).ids) == 1


def test_a_new_kek_is_appended_and_becomes_current(tmp_path: Path) -> None:
    settings = settings_of(tmp_path)
    first = ensure_local_kek(settings)
    before = load_kek_ring(settings)

    second = add_kek(settings)

    after = load_kek_ring(settings)
    assert after.ids == [first, second]
    assert after.current_id == second
    wrapped = before.wrap("case-1", b"d" * 32)
    assert after.unwrap("case-1", wrapped) == b"d" * 32
    path = settings.effective_kek_file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not path.with_name("kek.toml.partial").exists()
    created = tomllib.loads(path.read_text(encoding="utf-8"))["kek"][1]["created_at"]
    assert created.tzinfo is not None


def test_a_new_kek_makes_a_missing_file(tmp_path: Path) -> None:
    settings = settings_of(tmp_path)
    made = add_kek(settings)
    assert load_kek_ring(settings).ids == [made]


def test_a_new_kek_is_refused_while_another_is_being_written(tmp_path: Path) -> None:
    settings = settings_of(tmp_path)
    ensure_local_kek(settings)
    before = settings.effective_kek_file.read_bytes()
    partial = settings.effective_kek_file.with_name("kek.toml.partial")
    partial.write_text("")

    with pytest.raises(KekError, match="another `kawal kek new`"):
        add_kek(settings)
    assert settings.effective_kek_file.read_bytes() == before
    assert partial.exists()


def test_a_new_kek_is_refused_into_an_unsafe_file(tmp_path: Path) -> None:
    settings = settings_of(tmp_path)
    path = kek_file(tmp_path, entry("kek-a"), 0o644)

    with pytest.raises(KekError, match="chmod 600"):
        add_kek(settings)
    assert path.read_text(encoding="utf-8") == entry("kek-a")


def test_a_new_kek_is_refused_when_kawal_kek_is_set(tmp_path: Path) -> None:
    with pytest.raises(KekError, match="KAWAL_KEK is set"):
        add_kek(settings_of(tmp_path, kek=f"kek-1:{KEY}"))


def test_a_symlinked_keys_folder_gets_no_kek_file(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "keys").symlink_to(tmp_path / "elsewhere")

    with pytest.raises(KekError, match="symbolic link"):
        ensure_local_kek(settings_of(tmp_path / "home"))
    assert os.listdir(tmp_path / "elsewhere") == []


def test_new_kek_ids_never_repeat_an_id_in_the_file(tmp_path: Path) -> None:
    settings = settings_of(tmp_path)
    made = [add_kek(settings) for _ in range(5)]
    assert load_kek_ring(settings).ids == made
    assert new_kek()[0] not in made


def vault_with_a_key(home: Path) -> str:
    """A vault in ``home`` holding one data key, wrapped under the KEK file's KEK; its id."""
    settings = settings_of(home)
    made = ensure_local_kek(settings)
    assert made is not None
    vault = DataKeyVault(settings.effective_vault_url, load_kek_ring(settings))
    vault.create_schema()
    vault.keys_for(["case-1"], create=True)
    vault.close()
    return made


# `kawal kek new` as well as a start: before, it made a ring that opened none of the vault's
# data keys, and audit verify then blamed the rows.
@pytest.mark.parametrize("make", [ensure_local_kek, add_kek], ids=["start", "kek-new"])
def test_a_lost_kek_file_is_refused_not_replaced_while_the_vault_needs_it(
    tmp_path: Path, make: Callable[[Settings], object]
) -> None:
    kek_id = vault_with_a_key(tmp_path)
    settings = settings_of(tmp_path)
    settings.effective_kek_file.unlink()

    with pytest.raises(KekError) as refused:
        make(settings)

    message = str(refused.value)
    assert f"wrapped under KEK {kek_id}" in message
    assert "(KAWAL_KEK_FILE) is missing: restore it from its backup" in message
    assert not settings.effective_kek_file.exists(), "no fresh KEK in place of the lost one"
    assert "restore it from its backup when the hub ran before" in refusal(settings)


def test_a_wrong_kek_file_or_kawal_kek_is_refused_at_start(tmp_path: Path) -> None:
    kek_id = vault_with_a_key(tmp_path)
    kek_file(tmp_path, entry("kek-other", OTHER))

    with pytest.raises(KekError) as wrong_file:
        ensure_local_keys(settings_of(tmp_path))
    with pytest.raises(KekError) as wrong_env:
        ensure_local_kek(settings_of(tmp_path, kek=f"kek-other:{OTHER}"))

    assert f"under KEK {kek_id}, and the KEK file" in str(wrong_file.value)
    assert "(KAWAL_KEK_FILE) lacks them" in str(wrong_file.value)
    assert "KAWAL_KEK lacks them" in str(wrong_env.value)
    assert OTHER not in str(wrong_file.value) + str(wrong_env.value)
