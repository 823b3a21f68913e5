"""Retention timer: erase the personal data of every case whose retention period ended.

Every ``KAWAL_RETENTION_CHECK_SECONDS`` (an hour by default: periods run in years) the timer asks
the retention rules (:mod:`streams.domain.retention`) about every case in the case table. For a
case that is due it first destroys the case's data key in the vault, then publishes the
hub-signed ``PersonalDataErased`` naming the rule on ``kawal.inbound.kawal``, where ingress
takes it like any event and the lifecycle records the erasure, so the case is never due again.
Both steps are idempotent: the vault answers an erased key with ``ALREADY_ERASED``, and the
event's id is the case's one erasure id (:mod:`streams.domain.erasure`), so a second look, a
second worker or a restart between the two steps erases nothing twice and records one event.

A vault that cannot be reached, or gives no answer within its deadline (a frozen database,
:mod:`streams.vault.answer_deadline`), is logged, counted (``kawal_retention_failures_total``)
and tried again at the next run; nothing the timer meets stops the worker. A look that leaves
no case due dates ``kawal_retention_caught_up_timestamp_seconds``: erasures that keep failing,
for whatever reason, make it age until KawalRetentionBehind fires.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import faust

from monitoring.metrics import HubMetrics, Timer
from schemas.catalog import SchemaCatalog
from schemas.codec import AvroCodec
from streams.domain.erasure import (
    ERASURE_EVENT,
    RETENTION_ACTOR,
    erasure_event,
    erasure_event_id,
)
from streams.domain.hub_sealing import hub_sealing_key
from streams.domain.hub_signer import HubKeyUnavailableError, HubSigner
from streams.domain.keys import KeyRegistry
from streams.domain.retention import RetentionRule, due_rule, erasure_reason
from streams.domain.signed_events import encode_signed
from streams.domain.signing import SigningKey
from streams.hub.case_scan import each_case
from streams.hub.case_table import lifecycle_of
from streams.vault.data_keys import Erased, Erasure, VaultError

log = logging.getLogger(__name__)


class CaseEraser(Protocol):
    """What the timer needs of the vault (:class:`streams.vault.data_keys.DataKeyVault`)."""

    def erase(self, case_id: str, reason: str) -> Erasure:
        """Destroy the case's data key; say whether it was already gone."""
        ...

    def tombstone(self, case_id: str) -> Erased | None:
        """When and why the case was erased."""
        ...


class HubInbound(Protocol):
    """Where the hub publishes its own events: ``kawal.inbound.kawal`` (a Faust topic)."""

    async def send(self, *, key: bytes, value: bytes) -> Awaitable[Any]:
        """Queue a record; the awaitable answers once the broker has it."""
        ...


@dataclass
class RetentionTimer:
    """Looks through the case table for cases due for erasure and erases each once."""

    #: The case table (:mod:`streams.hub.case_table`), a Faust table.
    table: Any
    rules: Sequence[RetentionRule]
    vault: CaseEraser
    catalog: SchemaCatalog
    codec: AvroCodec
    #: Chooses the hub's signing key valid at each run.
    hub_key: HubSigner
    #: The registry the hub's encryption key is found in (every signed event names it).
    keys: KeyRegistry
    hub_inbound: HubInbound
    #: Counts the runs the vault stopped and the cases not erased.
    metrics: HubMetrics
    #: Erasure events this worker published, awaiting their place in the lifecycle.
    emitted: set[str] = field(default_factory=set)

    async def look(self, now: datetime | None = None) -> int:
        """Erase and report every case due at ``now`` (default: this moment).

        Returns:
            How many cases were erased and reported in this run.
        """
        moment = now or datetime.now(UTC)
        done = 0
        due = await self.due(moment)
        try:
            # Checked before any data key is destroyed: an erasure is always reported.
            key = self.hub_key.key_at(moment) if due else None
        except HubKeyUnavailableError:
            log.error("retention: %d erasures wait for a valid hub signing key", len(due))
            return 0
        for case_id, rule in due:
            try:
                await self.erase(case_id, rule, moment, key)
            except VaultError as exc:
                # The vault is down for every case alike: one line, and the next run goes on.
                self.metrics.retention_failed()
                log.error("retention: the vault is unavailable (%s); tried again next run", exc)
                break
            except Exception as exc:  # a failure of one case must not stop the worker
                self.metrics.retention_failed()
                log.error(
                    "retention rule %s: case %s not erased yet (%s: %s); tried again next run",
                    rule.id,
                    case_id,
                    type(exc).__name__,
                    exc,
                )
                continue
            done += 1
        if done == len(due):
            self.metrics.retention_done(moment.timestamp())
        return done

    async def due(self, now: datetime) -> list[tuple[str, RetentionRule]]:
        """Each case not yet erased whose retention period ended by ``now``, with its rule.

        The table is read a page at a time (:mod:`streams.hub.case_scan`).
        """
        found = []
        async for case_id, value in each_case(self.table):
            if not value or value["lifecycle"].get("erased_at"):
                continue  # erased cases skip the work of building their lifecycle
            case = lifecycle_of(value)
            rule = due_rule(self.rules, case, now) if case else None
            if rule is not None and erasure_event_id(case_id) not in self.emitted:
                found.append((case_id, rule))
        return found

    async def erase(
        self, case_id: str, rule: RetentionRule, now: datetime, key: SigningKey | None = None
    ) -> None:
        """Destroy the case's data key, then publish its PersonalDataErased naming ``rule``.

        ``key`` signs it (default: the hub's key valid at ``now``).

        Raises:
            VaultError: the vault cannot be written or read; nothing was published.
            streams.domain.hub_signer.HubKeyUnavailableError: no ``key`` and none valid; nothing
                was erased.
        """
        signing = key or self.hub_key.key_at(now)  # before anything is destroyed
        outcome = await asyncio.to_thread(self.vault.erase, case_id, erasure_reason(rule))
        tombstone = await asyncio.to_thread(self.vault.tombstone, case_id)
        if tombstone is None:
            raise VaultError(f"case {case_id} has no tombstone right after its erasure")
        event = erasure_event(
            case_id,
            reason=tombstone.reason,
            erased_at=tombstone.erased_at,
            retention_rule=rule.id,
            actor=RETENTION_ACTOR,
            now=now,
        )
        hub = hub_sealing_key(self.keys, now)
        value = encode_signed(self.catalog, self.codec, signing, ERASURE_EVENT, event, hub)
        delivered = await self.hub_inbound.send(key=case_id.encode(), value=value)
        await delivered
        self.emitted.add(event["envelope"]["event_id"])
        log.info(
            "retention rule %s: personal data of case %s erased (%s)",
            rule.id,
            case_id,
            outcome.value,
        )


def register(app: faust.App, timer: RetentionTimer, interval_seconds: float) -> None:
    """Run ``timer`` every ``interval_seconds`` on ``app``."""
    timer.metrics.timer_every(Timer.RETENTION, interval_seconds)

    async def look() -> None:
        await timer.look()

    app.timer(interval_seconds, name="kawal.retention-timer")(look)
