"""The key registry's tables, read from one file or from a folder of pieces read together.

A national registry (about 3,500 keys, 666 KB) outgrows a Kubernetes ConfigMap (1 MiB at most)
at its first round of rotations, as old keys stay to verify old events (each round adds about
805 KB). So ``KAWAL_KEYS_FILE`` may name a folder: ``kawal keys split``
(:mod:`streams.local.key_split`) cuts the registry into pieces under a size, one ConfigMap each,
and a projected volume mounts them all into that folder. Each piece says which it is of how many
and which split it came from (:data:`PIECE_FIELDS`), so a folder missing a piece, holding one
twice, or mixing pieces of two splits is refused, naming what to mount, instead of serving a
registry in which some keys would be silently unknown. A key id in two pieces is refused naming
the id and both files. The entries themselves are checked by :mod:`streams.domain.keys`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams.domain.data_files import read_toml
from streams.domain.key_entries import KeyRegistryError

#: The top-level fields of a piece: its number (from 1), how many pieces, and the split's id.
PIECE_FIELDS = ("piece", "pieces", "registry")
_MOUNT = (
    "mount every piece `kawal keys split` wrote into that folder (on Kubernetes, every "
    "ConfigMap kawal-key-registry-<n>)"
)


@dataclass(frozen=True)
class KeyTable:
    """One ``[[key]]`` table and where it was read, to name it in an error."""

    where: str
    item: dict[str, Any]


def read_key_tables(path: Path | None) -> list[KeyTable]:
    """The ``[[key]]`` tables of the registry at ``path``: a file, a folder of pieces, or bundled.

    Raises:
        KeyRegistryError: a file that cannot be read, a lone piece of several, or a folder of
            pieces that is not exactly one split's, or that names a key id in two pieces.
    """
    if path is not None and path.is_dir():
        return _folder_tables(path)
    document = _read(path)
    pieces = document.get("pieces", 1)
    if pieces != 1:
        raise KeyRegistryError(
            f"{path} is piece {document.get('piece')} of {pieces} of a key registry; set "
            f"KAWAL_KEYS_FILE to the folder holding all {pieces} pieces"
        )
    return _tables(document, "")


def read_piece(path: Path) -> list[KeyTable]:
    """The tables of one piece alone, whether or not the others are beside it.

    Raises:
        KeyRegistryError: the file cannot be read.
    """
    return _tables(_read(path), f"{path.name}: ")


def piece_holding(path: Path, key_id: str) -> Path:
    """The file holding the entry of ``key_id``: ``path`` itself, or the piece of its folder.

    Raises:
        KeyRegistryError: a piece cannot be read, or none holds the key.
    """
    if not path.is_dir():
        return path
    for file in _piece_files(path):
        if any(str(table.item.get("id")) == key_id for table in read_piece(file)):
            return file
    raise KeyRegistryError(f"no piece in {path} holds key {key_id}")


def _piece_files(folder: Path) -> list[Path]:
    return sorted(file for file in folder.glob("*.toml") if not file.name.startswith("."))


def _read(path: Path | None) -> dict[str, Any]:
    try:
        return read_toml(path, "keys.toml")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise KeyRegistryError(
            f"cannot read the key registry {path or '(bundled)'}: {exc}; fix that file (the "
            "registry in force is KAWAL_KEYS_FILE, else KAWAL_HOME/keys/registry.toml)"
        ) from exc


def _tables(document: dict[str, Any], prefix: str) -> list[KeyTable]:
    tables = document.get("key", [])
    if not isinstance(tables, list):
        raise KeyRegistryError(f"{prefix}key must be an array of [[key]] tables")
    return [KeyTable(f"{prefix}key entry #{n}", item) for n, item in enumerate(tables, start=1)]


def _folder_tables(folder: Path) -> list[KeyTable]:
    files = _piece_files(folder)
    if not files:
        raise KeyRegistryError(f"the key registry folder {folder} holds no *.toml piece; {_MOUNT}")
    documents = {file: _read(file) for file in files}
    _check_one_split(folder, documents)
    tables: list[KeyTable] = []
    seen: dict[str, tuple[Path, dict[str, Any]]] = {}
    for file, document in documents.items():
        for table in _tables(document, f"{file.name}: "):
            key_id = str(table.item.get("id"))
            if key_id in seen and seen[key_id][0] != file:
                _refuse_twice(key_id, seen[key_id], (file, table.item))
            seen.setdefault(key_id, (file, table.item))
            tables.append(table)
    return tables


def _refuse_twice(key_id: str, first: tuple[Path, Any], second: tuple[Path, Any]) -> None:
    kind = "the same entry" if first[1] == second[1] else "two different entries"
    raise KeyRegistryError(
        f"key id {key_id} is in both {first[0]} and {second[0]} ({kind}); a key belongs in "
        "exactly one piece: split the registry again with `kawal keys split` and replace every "
        "piece"
    )


def _check_one_split(folder: Path, documents: dict[Path, dict[str, Any]]) -> None:
    """Every piece of one split is there, once: else the error says which and what to mount."""
    splits: dict[tuple[str, int], list[Path]] = {}
    for file, document in documents.items():
        if not _is_piece(document):
            raise KeyRegistryError(
                f"{file} is not a piece of a key registry (it lacks piece, pieces and registry, "
                "or one is not what `kawal keys split` writes); a registry folder holds only "
                f"the pieces of one split: {_MOUNT}"
            )
        splits.setdefault((document["registry"], document["pieces"]), []).append(file)
    if len(splits) > 1:
        raise KeyRegistryError(
            f"the key registry folder {folder} mixes pieces of {len(splits)} splits ("
            + "; ".join(f"{_names(files)} of split {key[0]}" for key, files in splits.items())
            + "); replace every piece with those of one `kawal keys split`"
        )
    [(_, pieces)] = splits
    numbers: dict[int, Path] = {}
    for file, document in documents.items():
        if document["piece"] in numbers:
            raise KeyRegistryError(
                f"{numbers[document['piece']]} and {file} are both piece {document['piece']}; "
                f"keep one of them: {_MOUNT}"
            )
        numbers[document["piece"]] = file
    missing = sorted(set(range(1, pieces + 1)) - set(numbers))
    if missing:
        raise KeyRegistryError(
            f"the key registry folder {folder} lacks piece {', '.join(map(str, missing))} of "
            f"{pieces} (it holds {_names(documents)}), so their keys would be unknown; {_MOUNT}"
        )


def _is_piece(document: dict[str, Any]) -> bool:
    piece, pieces, split = (document.get(name) for name in PIECE_FIELDS)
    if not (isinstance(piece, int) and isinstance(pieces, int) and isinstance(split, str)):
        return False
    return 1 <= piece <= pieces


def _names(files: Iterable[Path]) -> str:
    return ", ".join(file.name for file in files)
