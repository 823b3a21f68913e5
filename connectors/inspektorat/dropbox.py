"""The drop directory an inspectorate office shares with the hub, and its batch files.

Layout under the share's root::

    incoming/    the office drops batches here: written as ``<name>.part``, then renamed
    processed/   the hub moves each batch here once every row of it is in the hub
    receipts/    the hub writes ``<name>.receipt.json`` for each batch (the office reads them)
    refused/     batches dropped under a name already taken by a different batch

A batch is complete only under its final name (``*.csv`` or ``*.json``); ``.part`` files and
hidden files are never read. Batch names carry a sortable timestamp or sequence, so name order
is export order. A record's position is ``<batch name>#<row number>`` (:class:`Position`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.inspektorat.rows import EXTRA_FIELDS

INCOMING = "incoming"
PROCESSED = "processed"
RECEIPTS = "receipts"
REFUSED = "refused"
#: Suffix of a complete batch → its format.
FORMATS = {".csv": "csv", ".json": "json"}
RECEIPT_SUFFIX = ".receipt.json"
REFUSAL_SUFFIX = ".refused.json"


@dataclass(frozen=True)
class Batch:
    """One batch file, parsed.

    Attributes:
        name: File name (the batch's identity).
        sha256: Hex digest of the file's bytes.
        rows: Row ``n`` (numbered from 1) is ``rows[n - 1]``.
        error: Why the file is not a readable batch at all (then ``rows`` is empty).
    """

    name: str
    sha256: str
    rows: tuple[Any, ...]
    error: str | None = None

    @property
    def last_row(self) -> int:
        """Number of the batch's last row; 0 for an unreadable batch (row 0: the whole file)."""
        return len(self.rows)


def parse_batch(name: str, data: bytes) -> Batch:
    """Parse a batch file's bytes by its suffix; an unreadable file gives ``error``."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")  # spreadsheet exports start with a byte-order mark
    except UnicodeDecodeError:
        return Batch(name, digest, (), "the file is not UTF-8 text")
    parse = _csv_rows if FORMATS[Path(name).suffix.lower()] == "csv" else _json_rows
    try:
        return Batch(name, digest, parse(text))
    except _UnreadableError as exc:
        return Batch(name, digest, (), str(exc))


class _UnreadableError(Exception):
    """The file is not a batch of its format at all."""


def _csv_rows(text: str) -> tuple[Any, ...]:
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey=EXTRA_FIELDS, strict=True)
    try:
        rows = tuple(reader)
    except csv.Error as exc:
        raise _UnreadableError(f"not valid CSV at line {reader.line_num} ({exc})") from None
    if not reader.fieldnames:
        raise _UnreadableError("not a CSV batch: it has no header row")
    return rows


def _json_rows(text: str) -> tuple[Any, ...]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _UnreadableError(
            f"not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
        ) from None
    records = document.get("records") if isinstance(document, dict) else None
    if not isinstance(records, list):
        raise _UnreadableError("not a JSON batch: expected an object with a 'records' list")
    return tuple(records)


@dataclass(frozen=True)
class Position:
    """Where a record sits: row ``row`` (from 1; 0 is a whole unreadable file) of ``batch``."""

    batch: str
    row: int

    def __str__(self) -> str:
        return f"{self.batch}#{self.row}"

    @classmethod
    def parse(cls, text: str) -> Position:
        """The position written as ``<batch name>#<row number>``.

        Raises:
            ValueError: ``text`` is not a position of this connector.
        """
        batch, separator, row = text.rpartition("#")
        if not separator or not batch or not row.isdigit():
            raise ValueError(f"checkpoint {text!r} is not '<batch name>#<row number>'")
        return cls(batch, int(row))


class DropDirectory:
    """The share's directories, listed and changed with atomic renames only."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.incoming = root / INCOMING
        self.processed = root / PROCESSED
        self.receipts = root / RECEIPTS
        self.refused = root / REFUSED
        #: Parsed batches by path, kept while their (mtime, size) stays the same.
        self._cache: dict[Path, tuple[tuple[int, int], Batch]] = {}

    def reachable(self) -> bool:
        """Whether the share is mounted (its ``incoming/`` is there)."""
        return self.incoming.is_dir()

    def pending(self) -> list[str]:
        """Names of the complete batches in ``incoming/``, in name order."""
        return _batch_names(self.incoming)

    def finished(self) -> list[str]:
        """Names of the batches in ``processed/``, in name order."""
        return _batch_names(self.processed) if self.processed.is_dir() else []

    def is_finished(self, name: str) -> bool:
        """Whether ``name`` was moved to ``processed/``."""
        return (self.processed / name).is_file()

    def load(self, name: str, *, finished: bool = False) -> Batch:
        """The batch ``name`` from ``incoming/`` (or ``processed/``), parsed once per version."""
        path = (self.processed if finished else self.incoming) / name
        stat = path.stat()
        version = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(path)
        if cached is None or cached[0] != version:
            cached = (version, parse_batch(name, path.read_bytes()))
            self._cache[path] = cached
        return cached[1]

    def finish(self, name: str, receipt: Mapping[str, Any]) -> None:
        """Write the batch's receipt, then move it to ``processed/``.

        The receipt comes first: a crash between the two leaves the batch in ``incoming/``, so
        it is finished again later, never moved without a receipt.

        Raises:
            OSError: the share is unmounted or failed; nothing was moved.
        """
        if not self.reachable():
            raise FileNotFoundError(f"{self.incoming} is not there (share unmounted?)")
        _write_atomically(self.receipts / f"{name}{RECEIPT_SUFFIX}", receipt)
        self.processed.mkdir(exist_ok=True)
        os.replace(self.incoming / name, self.processed / name)
        self._cache.pop(self.incoming / name, None)

    def refuse(self, name: str, refusal: Mapping[str, Any]) -> None:
        """Write a refusal for the batch, then move it to ``refused/``."""
        _write_atomically(self.receipts / f"{name}{REFUSAL_SUFFIX}", refusal)
        self.refused.mkdir(exist_ok=True)
        os.replace(self.incoming / name, self.refused / name)
        self._cache.pop(self.incoming / name, None)

    def discard(self, name: str) -> None:
        """Remove a copy of a batch from ``incoming/`` (one already in ``processed/``)."""
        (self.incoming / name).unlink()
        self._cache.pop(self.incoming / name, None)

    def forget(self, keep: set[str]) -> None:
        """Drop cached batches whose names are not in ``keep``."""
        for path in [path for path in self._cache if path.name not in keep]:
            del self._cache[path]


def _batch_names(directory: Path) -> list[str]:
    return sorted(
        entry.name
        for entry in os.scandir(directory)
        if entry.is_file()
        and not entry.name.startswith(".")
        and Path(entry.name).suffix.lower() in FORMATS
    )


def _write_atomically(target: Path, document: Mapping[str, Any]) -> None:
    """Write JSON so that a reader sees the old file or the whole new one, never a part."""
    target.parent.mkdir(exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    with partial.open("w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, target)
