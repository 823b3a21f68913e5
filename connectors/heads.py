"""Keeping the hub's signed tree heads, as every institution does.

Each head the hub publishes on ``kawal.heads`` is checked before it is kept: it must be signed
by the hub's key valid when it was issued, and it must extend the last head kept, by the
consistency proof it carries. Kept heads are appended to a JSON-lines file, the file
``kawal audit verify --heads`` reads: with it anyone detects a store rewritten behind the
hub's back or a second history shown to someone else. The file is the institution's alone:
mode 0600 in a folder of mode 0700.

A head that is not believed is refused with a code (:class:`streams.domain.tree_heads.HeadRefusal`)
and not kept; :meth:`HeadKeeper.keep` never raises, so the caller dead-letters the record and
goes on. After a fork every later head is refused too (each proves consistency only from the
head before it, which was not kept): a fork is for people to look into, not to step over.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from schemas.errors import KawalError
from streams.domain.keys import KeyRegistry
from streams.domain.tree_heads import (
    HeadFormatError,
    HeadProblem,
    HeadRefusal,
    SignedTreeHead,
    extension_problem,
    signature_problem,
)
from streams.private_files import PrivateFileError, open_private

#: The head was believed but could not be written: it is not kept, and may come again.
NOT_WRITTEN = "head_not_written"


class HeadFileError(KawalError):
    """The file of kept heads cannot be read."""


class HeadKeeper:
    """The heads an institution kept, in a JSON-lines file, and the check of each new one."""

    def __init__(self, path: Path, keys: KeyRegistry) -> None:
        """Keep heads in ``path`` (read if it exists), checking signatures against ``keys``.

        Raises:
            HeadFileError: the file cannot be read, or holds a line that is not a head.
        """
        self.path = path
        self.keys = keys
        #: Root of every kept head by size: a head seen again is the same head, or a fork.
        self._roots: dict[int, bytes] = {}
        self._last: SignedTreeHead | None = None
        if path.exists():
            self._load()

    @property
    def last(self) -> SignedTreeHead | None:
        """The largest head kept."""
        return self._last

    def keep(self, record: Mapping[str, Any]) -> HeadRefusal | None:
        """Check a decoded ``kawal.TreeHead`` and keep it; return why not, or None.

        A head already kept is not written again (None: it was kept before).
        """
        try:
            head = SignedTreeHead.from_record(record)
        except HeadFormatError as exc:
            return HeadRefusal(HeadProblem.MALFORMED, str(exc))
        refusal = signature_problem(head, self.keys)
        if refusal is not None:
            return refusal
        known = self._roots.get(head.tree_size)
        if known is not None:
            if known == head.root_hash:
                return None
            return HeadRefusal(
                HeadProblem.FORK,
                f"a head of size {head.tree_size} was kept with another root: the hub "
                "signed two histories",
            )
        if self._last is not None:
            refusal = extension_problem(self._last, head)
            if refusal is not None:
                return refusal
        try:
            self._append(head)
        except OSError as exc:
            return HeadRefusal(NOT_WRITTEN, f"cannot append to {self.path} ({exc.strerror})")
        except PrivateFileError as exc:
            return HeadRefusal(NOT_WRITTEN, str(exc))
        self._note(head)
        return None

    def _append(self, head: SignedTreeHead) -> None:
        descriptor = open_private(self.path, os.O_WRONLY | os.O_APPEND)
        with os.fdopen(descriptor, "a", encoding="utf-8") as file:
            file.write(head.to_json() + "\n")
            file.flush()
            # A kept head is evidence: it must survive the machine's crash, not only ours.
            os.fsync(file.fileno())

    def _note(self, head: SignedTreeHead) -> None:
        self._roots[head.tree_size] = head.root_hash
        if self._last is None or head.tree_size > self._last.tree_size:
            self._last = head

    def _load(self) -> None:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise HeadFileError(f"cannot read the kept heads {self.path} ({exc.strerror})") from exc
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                self._note(SignedTreeHead.from_json(line))
            except HeadFormatError as exc:
                raise HeadFileError(
                    f"line {number} of {self.path} is not a head ({exc}); restore the file "
                    "from a backup: it is the institution's evidence"
                ) from exc
