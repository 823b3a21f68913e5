"""``kawal keys split`` and ``kawal keys revoke`` on a registry in pieces (a folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.cli import main
from streams.domain.keys import load_key_registry
from tests.domain.test_key_pieces import pieces


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three pieces of one key each, the registry in force."""
    made, _ = pieces(tmp_path)
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KAWAL_KEYS_FILE", str(made))
    return made


def test_revoke_changes_only_the_piece_holding_the_key(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {piece.name: piece.read_text(encoding="utf-8") for piece in folder.iterdir()}
    [key_id] = [e.id for e in load_key_registry(folder).entries()][1:2]

    assert main(["keys", "revoke", key_id, "--reason", "leaked", "--at", "2026-06-01"]) == 0

    after = {piece.name: piece.read_text(encoding="utf-8") for piece in folder.iterdir()}
    assert [name for name in before if before[name] != after[name]] == ["keys-2.toml"]
    [revoked] = [e for e in load_key_registry(folder).entries() if e.id == key_id]
    assert revoked.reason == "leaked"
    assert f"in {folder / 'keys-2.toml'}" in capsys.readouterr().out


def test_a_registry_missing_a_piece_stops_the_command_naming_it(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "keys-3.toml").unlink()

    assert main(["keys", "split", "--out", str(tmp_path / "again")]) == 1

    assert "lacks piece 3 of 3" in capsys.readouterr().err
