"""A key registry read from a folder of pieces: all of one split, each key once, or refused.

A piece that did not arrive (a ConfigMap not created, or not mounted) would leave its keys
unknown and every event they signed refused as ``unknown_key``: the registry is refused instead,
naming the piece and what to mount. So is a key id in two pieces (naming it and both files), a
folder mixing two splits, and a piece read as if it were the whole registry.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from streams.domain.keys import KeyRegistryError, NewKey, load_key_registry, new_key_pair
from streams.local.key_split import KeySplitError, split_registry

JAN = datetime(2026, 1, 1, tzinfo=UTC)
#: Small enough that each piece holds one entry.
ONE_A_PIECE = 600


def pieces(tmp_path: Path, count: int = 3, name: str = "pieces") -> tuple[Path, list[NewKey]]:
    """A registry of ``count`` keys split one to a piece into ``tmp_path/name``."""
    keys = [new_key_pair(f"inst{n}", JAN) for n in range(count)]
    out = tmp_path / name
    split_registry(_whole(tmp_path, name, keys), out, ONE_A_PIECE)
    return out, keys


def _whole(tmp_path: Path, name: str, keys: list[NewKey]) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text("\n".join(key.registry_text() for key in keys), encoding="utf-8")
    return path


def test_the_pieces_of_a_folder_read_as_the_whole_registry(tmp_path: Path) -> None:
    folder, keys = pieces(tmp_path)

    registry = load_key_registry(folder)

    assert sorted(p.name for p in folder.iterdir()) == ["keys-1.toml", "keys-2.toml", "keys-3.toml"]
    assert [entry.id for entry in registry.entries()] == [key.key_id for key in keys]


def test_a_missing_piece_is_refused_naming_it(tmp_path: Path) -> None:
    folder, _ = pieces(tmp_path)
    (folder / "keys-2.toml").unlink()

    with pytest.raises(KeyRegistryError, match=r"lacks piece 2 of 3 .*keys-1.toml, keys-3.toml"):
        load_key_registry(folder)


def test_a_key_in_two_pieces_is_refused_naming_the_key_and_both_files(tmp_path: Path) -> None:
    folder, keys = pieces(tmp_path)
    second = (folder / "keys-2.toml").read_text(encoding="utf-8")
    (folder / "keys-3.toml").write_text(
        (folder / "keys-3.toml").read_text(encoding="utf-8") + "\n" + keys[1].registry_text(),
        encoding="utf-8",
    )

    with pytest.raises(KeyRegistryError) as refused:
        load_key_registry(folder)

    assert keys[1].key_id in str(refused.value)
    assert "keys-2.toml and" in str(refused.value)
    assert "keys-3.toml (the same entry)" in str(refused.value)
    # A conflicting entry under the same id: two different entries, named as such.
    (folder / "keys-3.toml").write_text(
        second.replace("piece = 2", "piece = 3").replace("valid_from = 2026", "valid_from = 2025"),
        encoding="utf-8",
    )
    with pytest.raises(KeyRegistryError, match="two different entries"):
        load_key_registry(folder)


def test_pieces_of_two_splits_are_not_read_together(tmp_path: Path) -> None:
    folder, _ = pieces(tmp_path)
    other, _ = pieces(tmp_path, name="other")
    shutil.copy(other / "keys-2.toml", folder / "keys-2.toml")

    with pytest.raises(KeyRegistryError, match="mixes pieces of 2 splits"):
        load_key_registry(folder)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "holds no \\*.toml piece"),
        ("[[key]]\nid = 'x'\n", "is not a piece of a key registry"),
    ],
)
def test_a_folder_of_no_pieces_is_refused(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    folder = tmp_path / "registry"
    folder.mkdir()
    if content is not None:
        (folder / "keys.toml").write_text(content, encoding="utf-8")

    with pytest.raises(KeyRegistryError, match=problem):
        load_key_registry(folder)


def test_one_piece_named_as_the_whole_registry_is_refused(tmp_path: Path) -> None:
    folder, _ = pieces(tmp_path)

    with pytest.raises(KeyRegistryError, match=r"piece 1 of 3 .*the folder holding all 3"):
        load_key_registry(folder / "keys-1.toml")


def test_split_writes_only_into_an_empty_folder(tmp_path: Path) -> None:
    folder, keys = pieces(tmp_path)

    with pytest.raises(KeySplitError, match=r"already holds keys-1\.toml"):
        split_registry(_whole(tmp_path, "again", keys), folder)


def test_split_refuses_a_folder_holding_anything_else_or_a_file(tmp_path: Path) -> None:
    """Before, only earlier pieces were refused: `--out /tmp` wrote into /tmp."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "notes.txt").write_text("not a piece")
    whole = _whole(tmp_path, "w", [new_key_pair("bkn", JAN)])

    with pytest.raises(KeySplitError, match=r"already holds notes\.txt; give an empty folder"):
        split_registry(whole, shared)
    with pytest.raises(KeySplitError, match=r"is a file; give an empty folder"):
        split_registry(whole, shared / "notes.txt")
    assert sorted(entry.name for entry in shared.iterdir()) == ["notes.txt"]


def test_an_entry_larger_than_a_piece_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeySplitError, match="give a larger --max-bytes"):
        split_registry(_whole(tmp_path, "w", [new_key_pair("bkn", JAN)]), tmp_path / "out", 300)
