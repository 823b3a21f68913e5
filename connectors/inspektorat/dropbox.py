"""The drop directory an inspectorate office shares with the hub, and its batch files.

Layout under the share's root::

    incoming/    the office drops batches here: written as ``<name>.part``, then renamed
    processed/   the hub moves each batch here once every row of it is in the hub
    receipts/    the hub writes ``<name>.receipt.json`` for each batch (the office reads them)
    feed/        the hub's news for the office (:mod:`connectors.inspektorat.feed`)
    refused/     batches dropped under a name already taken by a different batch, and entries
                 under a batch's name that are no regular file (a link, a folder, a pipe)

A batch is complete only under its final name (``*.csv`` or ``*.json``); ``.part`` files and
hidden files are never read. Batch names carry a sortable timestamp or sequence, so name order
is export order. A record's position is ``<batch name>#<row number>`` (:class:`Position`).

No link is followed anywhere in the share (:mod:`connectors.inspektorat.entries`).
``processed/`` and ``refused/`` hold personal data the office no longer needs from the share:
the hub makes them mode 0700 and the batches it owns there mode 0600, and deletes them after
the retention (:meth:`DropDirectory.expire`). Receipts hold no personal data and keep the
mode the office's user needs to read them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.inspektorat.entries import (
    UnsafeShareError,
    delete_older,
    folder_problem,
    kind_of,
    read_regular,
)
from connectors.inspektorat.rows import EXTRA_FIELDS
from connectors.json_input import read_json
from schemas.field_formats import is_number
from streams.private_files import private_dir, restrict_file

INCOMING = "incoming"
PROCESSED = "processed"
RECEIPTS = "receipts"
REFUSED = "refused"
FEED = "feed"
#: Suffix of a complete batch → its format.
FORMATS = {".csv": "csv", ".json": "json"}
RECEIPT_SUFFIX = ".receipt.json"
REFUSAL_SUFFIX = ".refused.json"


@dataclass(frozen=True)
class Batch:
    """One batch file, parsed.

    Attributes:
        name: File name (the batch's identity).
        sha256: Hex digest of the file's bytes; None when it is no regular file (never read).
        rows: Row ``n`` (numbered from 1) is ``rows[n - 1]``.
        error: Why the file is not a readable batch at all (then ``rows`` is empty).
        regular: False for an entry that is no regular file: refused whole, never opened.
    """

    name: str
    sha256: str | None
    rows: tuple[Any, ...]
    error: str | None = None
    regular: bool = True

    @property
    def reason_code(self) -> str:
        """Reason code of a batch refused whole (``error`` set)."""
        return "unreadable_batch" if self.regular else "not_a_regular_file"

    @property
    def last_row(self) -> int:
        """Number of the batch's last row; 0 for an unreadable batch (row 0: the whole file)."""
        return len(self.rows)


def not_a_file(name: str, mode: int) -> Batch:
    """The batch standing for entry ``name`` of ``st_mode`` ``mode``, which is no regular file."""
    return Batch(name, None, (), f"the entry is {kind_of(mode)}, not a regular file", False)


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
        document = read_json(text)
    except json.JSONDecodeError as exc:
        raise _UnreadableError(
            f"not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
        ) from None
    except ValueError as exc:
        raise _UnreadableError(f"not a JSON batch: {exc}") from None
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
        if not separator or not batch or not is_number(row):
            raise ValueError(f"checkpoint {text!r} is not '<batch name>#<row number>'")
        return cls(batch, int(row))


class DropDirectory:
    """The share's folders, listed and changed with atomic renames only, following no link."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.incoming = root / INCOMING
        self.processed = root / PROCESSED
        self.receipts = root / RECEIPTS
        self.refused = root / REFUSED
        self.feed = root / FEED
        #: Parsed batches by path, kept while their (type, mtime, size) stays the same.
        self._cache: dict[Path, tuple[tuple[int, int, int], Batch]] = {}

    def check_folders(self) -> None:
        """Refuse a share whose root or layout folder is a symbolic link or no folder.

        Raises:
            UnsafeShareError: which folder, and that nothing is read or written there.
        """
        for folder in (
            self.root,
            self.incoming,
            self.processed,
            self.receipts,
            self.refused,
            self.feed,
        ):
            problem = folder_problem(folder)
            if problem is not None:
                raise UnsafeShareError(problem)

    def reachable(self) -> bool:
        """Whether the share is mounted (its ``incoming/`` is there)."""
        return self.incoming.is_dir()

    def pending(self) -> list[str]:
        """Names of the complete batches in ``incoming/``, in name order, whatever their kind."""
        return _batch_names(self.incoming)

    def finished(self) -> list[str]:
        """Names of the batches in ``processed/``, in name order (regular files only)."""
        if not self.processed.is_dir():
            return []
        return [name for name in _batch_names(self.processed) if self.is_finished(name)]

    def is_pending(self, name: str) -> bool:
        """Whether an entry ``name`` (of any kind) waits in ``incoming/``."""
        return os.path.lexists(self.incoming / name)

    def is_finished(self, name: str) -> bool:
        """Whether ``name`` was moved to ``processed/`` (a regular file there)."""
        try:
            return stat.S_ISREG(os.lstat(self.processed / name).st_mode)
        except FileNotFoundError:
            return False

    def load(self, name: str, *, finished: bool = False) -> Batch:
        """The batch ``name`` from ``incoming/`` (or ``processed/``), parsed once per version.

        An entry that is no regular file is never opened: it gives a batch refused whole.
        """
        folder = self.processed if finished else self.incoming
        path = folder / name
        status = os.lstat(path)
        version = (stat.S_IFMT(status.st_mode), status.st_mtime_ns, status.st_size)
        cached = self._cache.get(path)
        if cached is None or cached[0] != version:
            cached = (version, _parse_entry(folder, name, status.st_mode))
            self._cache[path] = cached
        return cached[1]

    def finish(self, name: str, receipt: Mapping[str, Any]) -> None:
        """Write the batch's receipt, then move it to ``processed/``, private to the hub.

        The receipt comes first: a crash between the two leaves the batch in ``incoming/``, so
        it is finished again later, never moved without a receipt.

        Raises:
            OSError: the share is unmounted or failed; nothing was moved.
            UnsafeShareError: a folder of the share is a link; nothing was written.
            PrivateFileError: ``processed/`` or the batch cannot be made private.
        """
        if not self.reachable():
            raise FileNotFoundError(f"{self.incoming} is not there (share unmounted?)")
        self.check_folders()
        _write_atomically(self.receipts / f"{name}{RECEIPT_SUFFIX}", receipt)
        self._move_aside(name, self.processed)

    def refuse(self, name: str, refusal: Mapping[str, Any]) -> None:
        """Write a refusal for the entry, then move it to ``refused/``, private to the hub.

        Raises:
            As :meth:`finish`.
        """
        self.check_folders()
        _write_atomically(self.receipts / f"{name}{REFUSAL_SUFFIX}", refusal)
        self._move_aside(name, self.refused)

    def deliver(self, name: str, document: Mapping[str, Any]) -> bool:
        """Write ``feed/<name>`` unless it is there already; whether it was written.

        Raises:
            OSError: the share is unmounted or failed; nothing was written.
            UnsafeShareError: a folder of the share is a link; nothing was written.
        """
        if not self.reachable():
            raise FileNotFoundError(f"{self.incoming} is not there (share unmounted?)")
        self.check_folders()
        if os.path.lexists(self.feed / name):
            return False
        _write_atomically(self.feed / name, document)
        return True

    def receipts_holding(self) -> list[tuple[str, Mapping[str, Any]]]:
        """Every batch receipt on the share (regular files only), by file name.

        A receipt that is no longer JSON (edited on the share) is passed over.
        """
        found: list[tuple[str, Mapping[str, Any]]] = []
        for entry in sorted(os.scandir(self.receipts), key=lambda entry: entry.name):
            if not entry.name.endswith(RECEIPT_SUFFIX):
                continue
            data = read_regular(self.receipts, entry.name)
            try:
                receipt = read_json(data) if data is not None else None
            except ValueError:
                continue
            if isinstance(receipt, dict):
                found.append((entry.name, receipt))
        return found

    def discard(self, name: str) -> None:
        """Remove a copy of a batch from ``incoming/`` (one already in ``processed/``)."""
        self.check_folders()
        (self.incoming / name).unlink()
        self._cache.pop(self.incoming / name, None)

    def forget(self, keep: set[str]) -> None:
        """Drop cached batches whose names are not in ``keep``."""
        for path in [path for path in self._cache if path.name not in keep]:
            del self._cache[path]

    def expire(self, before: datetime) -> int:
        """Delete the batches moved to ``processed/`` or ``refused/`` before ``before``.

        Returns:
            How many were deleted.

        Raises:
            OSError: the share failed while being cleaned.
            UnsafeShareError: a folder of the share is a link; nothing was deleted.
        """
        self.check_folders()
        folders = [folder for folder in (self.processed, self.refused) if folder.is_dir()]
        return sum(delete_older(folder, before) for folder in folders)

    def _move_aside(self, name: str, folder: Path) -> None:
        source = self.incoming / name
        status = os.lstat(source)
        # Only the hub's own files can be given its mode; the office's keep theirs, and the
        # folder (0700, the hub's) keeps other users out of them.
        if stat.S_ISREG(status.st_mode) and status.st_uid == os.geteuid():
            restrict_file(source)
        os.replace(source, private_dir(folder) / name)
        self._cache.pop(source, None)


def _parse_entry(folder: Path, name: str, mode: int) -> Batch:
    """The batch entry ``name`` of ``folder`` holds; only a regular file is read."""
    if not stat.S_ISREG(mode):
        return not_a_file(name, mode)
    data = read_regular(folder, name)
    if data is None:
        return not_a_file(name, stat.S_IFLNK)  # swapped for something else since listed
    return parse_batch(name, data)


def _batch_names(directory: Path) -> list[str]:
    # Entries of every kind: one that is no regular file is refused, not silently skipped.
    return sorted(
        entry.name
        for entry in os.scandir(directory)
        if not entry.name.startswith(".") and Path(entry.name).suffix.lower() in FORMATS
    )


def _write_atomically(target: Path, document: Mapping[str, Any]) -> None:
    """Write JSON so that a reader sees the old file or the whole new one, never a part.

    The partial file is made anew (``O_EXCL``): a link the office left under its name is
    removed, never written through; the rename replaces a link at ``target`` itself.
    """
    target.parent.mkdir(exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, target)
