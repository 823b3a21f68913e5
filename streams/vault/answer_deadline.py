"""The vault's calls of the web views and the retention timer, each given up after a deadline.

A vault whose database is frozen (its processes stopped, its disk or the network path hung)
refuses nothing: a query on a connection the pool holds waits until it thaws, and so did a
trail request or the retention timer's run, with no answer, metric or log line. Through
:class:`BoundedVault` a call that has no answer within :data:`ANSWER_SECONDS` raises
:class:`~streams.vault.database.VaultError`: a page answers 503, the timer logs, counts and
tries again at its next run.

One wrapper at the composition root rather than a PostgreSQL ``statement_timeout`` on the
engine: the server enforces that timeout in the backend running the query, which a frozen
server does not run and a cut-off one cannot answer from; libpq has no client-side deadline
on a query, and TCP keeps a stopped server's connection alive (its kernel acknowledges what
is sent). So the call runs on one of the vault's own threads and its caller waits at most the
deadline. A thread cannot be stopped: the query's thread waits on the database until it thaws,
at most :data:`THREADS` of them, and a call still queued when its caller gives up is dropped.
They are daemon threads (:mod:`streams.daemon_pool`): a process stopped while one waits exits
without it, and the vault rolls back the transaction it had not committed.
The pipeline asks the vault itself and waits for its answer (:mod:`streams.hub.batch_keys`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TypeVar

from streams.daemon_pool import DaemonPool
from streams.vault.data_keys import DataKeyVault, Erased, Erasure, VaultError

#: Seconds a call waits for the vault's answer: as the hub's checks of its databases
#: (:data:`streams.hub.store_check.ANSWER_SECONDS`), far beyond a query and a connection.
ANSWER_SECONDS = 10.0
#: Threads that may wait on a frozen vault at once; further calls queue and are given up.
THREADS = 4

T = TypeVar("T")


class BoundedVault:
    """The reads and erasures of ``vault``, each answered or given up within a deadline."""

    def __init__(
        self, vault: DataKeyVault, answer_seconds: float = ANSWER_SECONDS, threads: int = THREADS
    ) -> None:
        """Call ``vault`` on ``threads`` threads of its own, waiting ``answer_seconds`` each."""
        self._vault = vault
        self._answer_seconds = answer_seconds
        self._threads = DaemonPool(threads, "kawal-vault")

    def keys_for(self, case_ids: Iterable[str], *, create: bool) -> dict[str, bytes | Erased]:
        """:meth:`DataKeyVault.keys_for` within the deadline.

        Raises:
            VaultError: the vault refused, or gave no answer within the deadline.
        """
        return self._answer(functools.partial(self._vault.keys_for, list(case_ids), create=create))

    def erase(self, case_id: str, reason: str) -> Erasure:
        """:meth:`DataKeyVault.erase` within the deadline; it may still end after it.

        Raises:
            VaultError: the vault refused, or gave no answer within the deadline.
        """
        return self._answer(functools.partial(self._vault.erase, case_id, reason))

    def tombstone(self, case_id: str) -> Erased | None:
        """:meth:`DataKeyVault.tombstone` within the deadline.

        Raises:
            VaultError: the vault refused, or gave no answer within the deadline.
        """
        return self._answer(functools.partial(self._vault.tombstone, case_id))

    def _answer(self, call: Callable[[], T]) -> T:
        asked = self._threads.submit(call)
        try:
            return asked.result(timeout=self._answer_seconds)
        except TimeoutError:
            asked.cancel()  # dropped if still queued; a running query ends when the vault thaws
            raise VaultError(
                f"the vault gave no answer within {self._answer_seconds:.0f} s: its database "
                "is frozen, overloaded or cut off"
            ) from None
