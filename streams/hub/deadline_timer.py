"""Deadline timer: after each case census, emit DeadlineBreached for each clock that ran out.

The case census (:mod:`streams.hub.case_census`) finds the clocks that ran out and whose breach
is not recorded yet, every ``KAWAL_DEADLINE_CHECK_SECONDS`` (paced: a look at 100,000 cases
takes seconds, and is repeated no sooner than ten times that).

The breach is signed with the hub's key and published on ``kawal.inbound.kawal``, the hub's own
inbound topic, so it passes ingress like any institution's event (authenticated as the hub,
authorized for the hub role only) and stops its clock there. Breach event ids derive from the
clock, so a second look, or a second worker holding a standby copy of the table, produces a
duplicate that ingress refuses instead of a second breach.

A clock whose expected event the hub recorded after the due date, before the timer looked
(met late, :func:`streams.domain.deadlines.update_clocks`), is reported too: its breach says
when the event came (``met_at``), so the statistics count the late step as overdue while no
consumer acts against an institution that did act.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import faust

from monitoring.metrics import HubMetrics, Timer
from schemas.catalog import SchemaCatalog
from schemas.codec import AvroCodec
from streams.domain.deadlines import DeadlineRule, breach_event
from streams.domain.hub_sealing import hub_sealing_key
from streams.domain.hub_signer import HubKeyUnavailableError, HubSigner
from streams.domain.keys import KeyRegistry
from streams.domain.signed_events import encode_signed
from streams.hub.case_census import CaseCensus, DueClock
from streams.hub.retention_timer import HubInbound

log = logging.getLogger(__name__)


@dataclass
class DeadlineTimer:
    """Reports each breach of a clock that ran out once."""

    rules: dict[str, DeadlineRule]
    catalog: SchemaCatalog
    codec: AvroCodec
    #: Chooses the hub's signing key valid at each run.
    hub_key: HubSigner
    #: The registry the hub's encryption key is found in (a breach seals nothing, but every
    #: signed event names the key its disclosures would be sealed to).
    keys: KeyRegistry
    #: ``kawal.inbound.kawal``, where the hub publishes as an institution of its own.
    hub_inbound: HubInbound
    #: Breaches already sent by this worker.
    emitted: set[str] = field(default_factory=set)

    async def report(self, due: list[DueClock], now: datetime) -> None:
        """Publish a DeadlineBreached for every clock of ``due`` not reported yet.

        While the hub has no valid signing key, none is: each is reported at a later run.
        """
        if not due:
            return
        try:
            key = self.hub_key.key_at(now)
        except HubKeyUnavailableError:
            log.error("%d deadline breaches wait for a valid hub signing key", len(due))
            return
        for found in due:
            rule = self.rules.get(found.clock["rule_id"])
            if rule is None:
                continue  # a rule removed from the configuration no longer breaches
            event = breach_event(found.case_id, found.case, found.clock, rule, now)
            event_id = event["envelope"]["event_id"]
            if event_id in self.emitted:
                continue
            self.emitted.add(event_id)
            hub = hub_sealing_key(self.keys, now)
            value_bytes = encode_signed(
                self.catalog, self.codec, key, "DeadlineBreached", event, hub
            )
            await self.hub_inbound.send(key=found.case_id.encode(), value=value_bytes)
            log.info("deadline %s breached on case %s", rule.id, found.case_id)


def register(
    app: faust.App,
    census: CaseCensus,
    timer: DeadlineTimer,
    interval_seconds: float,
    metrics: HubMetrics,
) -> None:
    """Take ``census`` every ``interval_seconds`` (as its pace allows); ``timer`` reports it.

    The interval is exported on ``metrics``: KawalCaseCensusStale counts in it.
    """
    metrics.timer_every(Timer.CASE_CENSUS, interval_seconds)

    async def look() -> None:
        found = await census.take()
        if found is not None:
            await timer.report(found.due, found.taken_at)

    app.timer(interval_seconds, name="kawal.case-census")(look)
