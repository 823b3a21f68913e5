"""The data keys of a batch's cases, asked of the vault once per batch, off the event loop.

Every record of a batch is keyed by its case (ingress refuses any other key), so one vault
call gives the keys of all the batch's cases, made for the cases it opens, before anything
sealed under them is produced. The pipeline decides each record with them and never asks the
vault again on the event loop, where a frozen vault would stop every agent, timer and page of
the worker: a case the batch found no key for is a case whose key the vault lost.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass

import faust

from monitoring.metrics import HubMetrics
from streams.hub.case_table import CaseBatch
from streams.hub.store_check import ANSWER_SECONDS
from streams.vault.data_keys import Erased, VaultError
from streams.vault.entries import CaseKeys, DataKey

log = logging.getLogger(__name__)

#: First and longest wait before the vault is asked again, in seconds.
VAULT_RETRY_SECONDS = 0.5
VAULT_RETRY_MAX_SECONDS = 30.0
#: Seconds the vault has to answer a batch before it counts as down: as the audit store's check.
VAULT_ANSWER_SECONDS = ANSWER_SECONDS


@dataclass(frozen=True)
class BatchKeys:
    """Asks ``case_keys`` on ``thread`` (one a stopping worker does not wait for)."""

    case_keys: CaseKeys
    metrics: HubMetrics
    thread: Executor

    async def of_batch(
        self, messages: list[faust.types.Message], cases: CaseBatch
    ) -> Mapping[str, DataKey]:
        """The data keys of a batch's cases, made for the cases the batch opens.

        A case the table holds already keeps its key: one the vault lacks was lost with it (a
        vault restored from an older backup), and a new key would seal its next values apart
        from its earlier ones, so its events are refused (``DataKeyMissingError``). While the
        vault is unreachable the batch waits, and so does the pipeline: nothing is refused
        for it.
        """
        wanted = case_ids(messages)
        new = [case_id for case_id in wanted if cases.get(case_id) is None]
        delay = VAULT_RETRY_SECONDS
        failed = 0
        while True:
            try:
                keys, late = await self._ask(wanted, new)
            except VaultError as exc:
                failed += 1
                self.metrics.vault_answered(False)
                log.error(
                    "data-key vault unavailable (%s); the batch waits %.1f s; see "
                    "docs/operations.md#kawalvaultunavailable",
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, VAULT_RETRY_MAX_SECONDS)
                continue
            failed += 1 if late else 0
            if failed:
                self.metrics.vault_answered(True)
                log.warning("the data-key vault answers again, after %d failed attempts", failed)
            return keys

    def outside_batch(
        self, cases: CaseBatch, message: faust.types.Message
    ) -> dict[str, bytes | Erased]:
        """The keys of one record decided outside a batch (tools, tests), within the deadline.

        Raises:
            VaultError: the vault refused, or gave no answer within the deadline.
        """
        wanted = case_ids([message])
        new = [case_id for case_id in wanted if cases.get(case_id) is None]
        asked = self.thread.submit(self._fetch, wanted, new)
        try:
            return asked.result(timeout=VAULT_ANSWER_SECONDS)
        except TimeoutError:
            asked.cancel()
            raise VaultError(
                f"the data-key vault gave no answer within {VAULT_ANSWER_SECONDS:.0f} s: its "
                "database is frozen, overloaded or cut off"
            ) from None

    async def _ask(
        self, wanted: list[str], new: list[str]
    ) -> tuple[dict[str, bytes | Erased], bool]:
        """The keys :meth:`_fetch` gives, and whether the vault was late with them.

        A frozen database (its processes stopped, its disk or the network path hung) refuses
        nothing: a query on a connection the pool holds waits until it thaws. One unanswered
        within :data:`VAULT_ANSWER_SECONDS` sets ``kawal_vault_up`` to 0 and is waited on
        still (a thread cannot be stopped, and a second query would wait as well); a worker
        stopped meanwhile exits without it, and the vault rolls back what it had not committed.
        """
        loop = asyncio.get_running_loop()
        asking = loop.run_in_executor(self.thread, self._fetch, wanted, new)
        try:
            return await asyncio.wait_for(asyncio.shield(asking), VAULT_ANSWER_SECONDS), False
        except TimeoutError:
            self.metrics.vault_answered(False)
            log.error(
                "data-key vault unavailable (no answer within %.0f s: the database is frozen, "
                "overloaded or cut off); the batch waits for its answer; see "
                "docs/operations.md#kawalvaultunavailable",
                VAULT_ANSWER_SECONDS,
            )
        return await asking, True

    def _fetch(self, wanted: list[str], new: list[str]) -> dict[str, bytes | Erased]:
        """The keys of ``wanted`` the vault holds, made for the ``new`` cases only.

        One vault transaction when the batch's cases are all new or all held, as in a burst.
        """
        opened = set(new)
        held = [case_id for case_id in wanted if case_id not in opened]
        found: dict[str, bytes | Erased] = {}
        if held:
            found |= dict(self.case_keys.keys_for(held, create=False))
        if new:
            found |= dict(self.case_keys.keys_for(new, create=True))
        return found


def case_ids(messages: list[faust.types.Message]) -> list[str]:
    """The case ids the records of a batch are keyed by; ingress refuses any other key."""
    found = set()
    for message in messages:
        if not isinstance(message.key, bytes):
            continue
        try:
            found.add(str(uuid.UUID(message.key.decode())))
        except ValueError:  # also UnicodeDecodeError
            continue
    return sorted(found)
