"""The portal's own small SQLite files (tracking codes, held files), kept the same way.

Each is a file of the portal's alone (mode 0600, :func:`streams.private_files.private_database`),
written with ``synchronous=FULL``, through one connection shared under a lock by the request
threads, and every use is a transaction that fails as the store's own error, saying to try again.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from streams.private_files import PrivateFileError, private_database


class PortalDatabase:
    """One SQLite file of the portal, its schema made on first use.

    Args:
        path: the file.
        schema: statements run once the file is opened (``CREATE ... IF NOT EXISTS``).
        name: what the store is called in errors (``the tracking store``).
        unavailable: the store's error, made from its message.
        busy_seconds: how long a statement waits for another process's lock.
        pragmas: statements run on the connection before the schema.
    """

    def __init__(
        self,
        path: Path,
        schema: Sequence[str],
        name: str,
        unavailable: Callable[[str], Exception],
        busy_seconds: float = 5.0,
        pragmas: Sequence[str] = (),
    ) -> None:
        self.path = path
        self._schema = schema
        self._name = name
        self._unavailable = unavailable
        self._busy_seconds = busy_seconds
        self._pragmas = pragmas
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection, in a transaction committed when the ``with`` ends.

        Raises:
            Exception: the store's ``unavailable`` error, when the file cannot be used now.
        """
        with self._lock:
            try:
                db = self._connection()
                with db:
                    yield db
            except (sqlite3.Error, OSError, PrivateFileError) as exc:
                raise self._unavailable(
                    f"{self._name} {self.path} cannot be used now ({exc}); try again"
                ) from exc

    def close(self) -> None:
        """Close the file (the next use opens it again)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            private_database(self.path)
            db = sqlite3.connect(self.path, timeout=self._busy_seconds, check_same_thread=False)
            db.execute("PRAGMA synchronous=FULL")
            for pragma in self._pragmas:
                db.execute(pragma)
            for statement in self._schema:
                db.execute(statement)
            self._db = db
        return self._db
