"""Text in a SQLite audit store that is not UTF-8, read as a marked value instead of an error.

SQLite keeps whatever bytes an edit outside the hub put into a TEXT column
(``CAST(X'ff' AS TEXT)``). The ``sqlite3`` module decodes TEXT as UTF-8 and stops the whole
read at the first value that is not, with an error that quotes the value (possibly part of
someone's name): one tampered row made every checker fail instead of reporting it. Read through
:func:`decoded`, such a value is :data:`NOT_UTF8`, a marked string that shows nothing of what
was stored and equals no value the hub writes, so a chain covering the column breaks at that
entry and :mod:`streams.audit.row_shapes` names the column.
"""

from __future__ import annotations

from typing import Any


class UndecodableText(str):
    """A stored text value that was not UTF-8 (only ever :data:`NOT_UTF8`)."""


#: What a TEXT value that is not UTF-8 reads as.
NOT_UTF8 = UndecodableText("[not UTF-8]")


def decoded(stored: bytes) -> str:
    """``stored`` decoded as UTF-8, or :data:`NOT_UTF8`."""
    try:
        return stored.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_UTF8


def read_text_leniently(dbapi_connection: Any) -> None:
    """Make a ``sqlite3`` connection read TEXT through :func:`decoded`."""
    dbapi_connection.text_factory = decoded
