"""Cutting the key registry into pieces under a size: ``kawal keys split``.

A Kubernetes ConfigMap holds at most 1 MiB, and a national registry passes that at its first
round of rotations. The pieces, each at most ``max_bytes``, go one to a ConfigMap; mounted
together into one folder (a projected volume), ``KAWAL_KEYS_FILE`` names that folder and every
process reads them as one registry (:mod:`streams.domain.key_pieces`). Entries keep their
registry order; each piece starts with its number, the count, and the split's id (a digest of
every entry), so pieces of two splits are never read together. The pieces are read back as the
hub reads them before the command reports success.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from schemas.errors import KawalError
from streams.domain.key_pieces import read_key_tables
from streams.domain.keys import load_key_registry

#: Default largest piece: under a ConfigMap's 1 MiB, with room for its name and metadata.
DEFAULT_MAX_BYTES = 960 * 1024
#: Room kept for a piece's header (its comment and the three fields).
_HEADER_BYTES = 400


class KeySplitError(KawalError):
    """The registry cannot be split as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Piece:
    """One piece written: its file, its size in bytes and how many keys it holds."""

    path: Path
    size: int
    keys: int


def split_registry(
    source: Path | None, out: Path, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[Piece]:
    """Write the registry at ``source`` (a file or a folder of pieces) as pieces into ``out``.

    Raises:
        KeySplitError: ``out`` already holds ``*.toml`` files, or one entry alone is larger
            than ``max_bytes``.
        streams.domain.keys.KeyRegistryError: the registry cannot be read as the hub reads it.
    """
    total = len(load_key_registry(source))  # what the hub would read: split nothing less
    tables = [_table_text(table.item) for table in read_key_tables(source)]
    groups = _groups(tables, max_bytes)
    split = hashlib.sha256("\n".join(tables).encode()).hexdigest()[:16]
    _check_empty(out)
    pieces = []
    for number, group in enumerate(groups, start=1):
        path = out / f"keys-{number}.toml"
        path.write_text(_header(number, len(groups), split) + "\n".join(group), "utf-8")
        pieces.append(Piece(path, path.stat().st_size, len(group)))
    if len(load_key_registry(out)) != total:
        raise KeySplitError(f"the pieces in {out} do not hold the {total} keys of the registry")
    return pieces


def _table_text(item: dict[str, Any]) -> str:
    """One ``[[key]]`` table; a JSON string is a TOML basic string (the read-back checks it)."""
    fields = (
        f"{name} = {value.isoformat() if isinstance(value, datetime) else json.dumps(value)}\n"
        for name, value in item.items()
    )
    return "[[key]]\n" + "".join(fields)


def _groups(tables: list[str], max_bytes: int) -> list[list[str]]:
    """The tables in order, cut where the next one would take a piece past ``max_bytes``."""
    room = max_bytes - _HEADER_BYTES
    groups: list[list[str]] = [[]]
    size = 0
    for table in tables:
        length = len(table.encode()) + 1
        if length > room:
            raise KeySplitError(
                f"one key entry takes {length} bytes, more than a piece of {max_bytes} bytes "
                f"holds with its header; give a larger --max-bytes"
            )
        if size + length > room and groups[-1]:
            groups.append([])
            size = 0
        groups[-1].append(table)
        size += length
    return groups


def _header(number: int, count: int, split: str) -> str:
    return (
        f"# Piece {number} of {count} of the key registry, written by `kawal keys split`.\n"
        "# Public keys only. KAWAL_KEYS_FILE names the folder holding every piece; each goes "
        "into its own ConfigMap.\n"
        f'piece = {number}\npieces = {count}\nregistry = "{split}"\n\n'
    )


def _check_empty(out: Path) -> None:
    """Make ``out``, or refuse it unless it is empty.

    Whatever else it holds would go where the pieces go (a ConfigMap of the folder), and a
    piece of an earlier split would be read with these.
    """
    if out.exists() and not out.is_dir():
        raise KeySplitError(f"{out} is a file; give an empty folder for the pieces")
    out.mkdir(parents=True, exist_ok=True)
    held = sorted(entry.name for entry in out.iterdir())
    if held:
        raise KeySplitError(
            f"{out} already holds {', '.join(held[:5])}{', ...' if len(held) > 5 else ''}; "
            "give an empty folder, so that nothing else goes where the pieces go and no piece "
            "of an earlier split is read with these"
        )
