"""The data-key vault as ``kawal`` commands use it: given up on once a statement gets no answer.

A command on a vault whose database froze after the command connected (its processes
stopped, its disk or the network path hung) waited for ever: libpq has no deadline on a
query, and TCP keeps a stopped server's connection open (:mod:`streams.vault.answer_deadline`).
So a command's vault work runs on a daemon thread (:mod:`streams.daemon_pool`), and the
command waits while the vault answers: it gives up once one statement (or a commit, or the
rollback that returns a connection to its pool) has waited :data:`ANSWER_SECONDS`. A
deadline on statements rather than on a whole call lets ``kawal kek rewrap`` of a million
keys run as long as it needs. Giving up ends the command; its process exits without the
thread, its connection closes with it, and the server rolls back the transaction it had not
committed. :class:`VaultSilentError` says whether a commit was on its way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, closing, nullcontext
from typing import Any, TypeVar

from sqlalchemy import Engine, event

from schemas.errors import KawalError
from streams.daemon_pool import DaemonPool
from streams.settings import Settings
from streams.vault.answer_deadline import ANSWER_SECONDS
from streams.vault.data_keys import DataKeyVault, Erased, VaultError
from streams.vault.database import check_exists, shown
from streams.vault.kek import KeyWrapper
from streams.vault.kek_source import load_kek_ring

T = TypeVar("T")

#: Seconds between two looks at whether the vault still answers.
LOOK_SECONDS = 0.5


class VaultSilentError(VaultError):
    """A statement of the vault got no answer within the deadline; the command gave up."""

    def __init__(self, said: str, consequence: str, *, committing: bool, commits: int) -> None:
        """``said``: what did not answer; ``consequence``: what that did, and what to do.

        ``committing``: the statement unanswered was a commit (it may have taken effect);
        ``commits``: how many commits the vault had answered before, for the command's work.
        """
        super().__init__(f"{said}; {consequence}")
        self.said = said
        self.committing = committing
        self.commits = commits


class _Statements:
    """When the engine's statement in flight was sent, and what became of its commits."""

    def __init__(self, engine: Engine) -> None:
        self.sent_at: float | None = None
        #: A commit was sent and its answer has not come.
        self.committing = False
        #: Commits the vault answered.
        self.commits = 0
        event.listen(engine, "before_cursor_execute", self._asked)
        event.listen(engine, "after_cursor_execute", self._answered)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "reset", self._asked)  # the rollback on a connection's return
        event.listen(engine, "checkin", self._answered)

    def _asked(self, *_args: Any) -> None:
        self._answered()
        self.sent_at = time.monotonic()

    def _answered(self, *_args: Any) -> None:
        # Whatever the connection does after a commit, it does once the commit is answered.
        self.commits += 1 if self.committing else 0
        self.committing = False
        self.sent_at = None

    def _commit(self, *_args: Any) -> None:
        self._asked()
        self.committing = True

    def waited(self) -> float:
        """Seconds the statement in flight has waited for its answer; 0 with none in flight."""
        return 0.0 if self.sent_at is None else time.monotonic() - self.sent_at


class CommandVault:
    """A vault's calls, each answered or given up once a statement waits too long."""

    def __init__(
        self, vault: DataKeyVault, consequence: str, answer_seconds: float = ANSWER_SECONDS
    ) -> None:
        """Ask ``vault``; ``consequence`` says in an error what giving up did and what to do."""
        self.vault = vault
        self._consequence = consequence
        self._answer_seconds = answer_seconds
        self._statements = _Statements(vault.engine)
        self._thread = DaemonPool(1, "kawal-vault-command")

    def ask(self, call: Callable[[DataKeyVault], T]) -> T:
        """``call(vault)`` on the vault's thread, waited for while the vault answers.

        Raises:
            VaultSilentError: a statement had no answer within the deadline.
            VaultError: the vault refused.
        """
        asked = self._thread.submit(call, self.vault)
        while True:
            try:
                return asked.result(timeout=LOOK_SECONDS)
            except TimeoutError:
                if self._statements.waited() >= self._answer_seconds:
                    asked.cancel()  # a query of a later call, still queued, is never sent
                    raise self._silent() from None

    def keys_for(self, case_ids: Iterable[str], *, create: bool) -> dict[str, bytes | Erased]:
        """:meth:`DataKeyVault.keys_for` (the readers' :class:`~streams.vault.entries.CaseKeys`).

        Raises:
            VaultSilentError: a statement had no answer within the deadline.
            VaultError: the vault refused.
        """
        wanted = list(case_ids)
        return self.ask(lambda vault: vault.keys_for(wanted, create=create))

    def close(self) -> None:
        """Release the vault's connections; one that waits on its statement is left to exit."""
        self.vault.close()

    def __enter__(self) -> CommandVault:
        """The vault, closed as the ``with`` ends."""
        return self

    def __exit__(self, *_exc: object) -> None:
        """Close the vault."""
        self.close()

    def _silent(self) -> VaultSilentError:
        statements = self._statements
        said = (
            f"the data-key vault {shown(self.vault.url)} (KAWAL_VAULT_URL) gave no answer "
            f"within {self._answer_seconds:.0f} s: its database is frozen, overloaded or cut off"
        )
        return VaultSilentError(
            said, self._consequence, committing=statements.committing, commits=statements.commits
        )


def open_command_vault(
    url: str, ring: KeyWrapper, consequence: str, answer_seconds: float = ANSWER_SECONDS
) -> CommandVault:
    """The existing vault at ``url``, asked within deadlines; close it after use.

    Raises:
        VaultSilentError: the vault gave no answer to whether it is there.
        VaultError: no vault at ``url``, or its database refused.
    """
    opened = CommandVault(DataKeyVault(url, ring), consequence, answer_seconds)
    try:
        opened.ask(lambda vault: check_exists(url, vault.engine))
    except VaultError:
        opened.close()
        raise
    return opened


#: What a command that only reads did when it gave up, and what to do.
NOTHING_CHANGED = (
    "nothing was changed; once the vault answers again (docs/operations.md"
    "#kawalvaultunavailable), run the command again"
)


def vault_or_why(settings: Settings) -> tuple[CommandVault | None, str | None]:
    """The hub's vault for a command that only reads, or None and why it cannot be opened."""
    try:
        url, ring = settings.effective_vault_url, load_kek_ring(settings)
        return open_command_vault(url, ring, NOTHING_CHANGED), None
    except KawalError as exc:
        return None, str(exc)


def closed_after(vault: CommandVault | None) -> AbstractContextManager[object]:
    """Closes the vault, if one was opened, as the command leaves the ``with``."""
    return nullcontext() if vault is None else closing(vault)
