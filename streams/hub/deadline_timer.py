"""Deadline timer: every few seconds, emit DeadlineBreached for each clock that ran out.

The breach is signed with the hub's key and published on ``kawal.inbound.kawal``, the hub's own
inbound topic, so it passes ingress like any institution's event (authenticated as the hub,
authorized for the hub role only) and stops its clock there. Breach event ids derive from the
clock, so a second look, or a second worker holding a standby copy of the table, produces a
duplicate that ingress refuses instead of a second breach.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import faust

from schemas.catalog import SchemaCatalog
from schemas.codec import AvroCodec
from streams.domain.deadlines import DeadlineRule, breach_event, unreported
from streams.domain.hub_sealing import hub_sealing_key
from streams.domain.keys import KeyRegistry
from streams.domain.signed_events import encode_signed
from streams.domain.signing import SigningKey
from streams.hub.case_store import iter_cases
from streams.hub.case_table import lifecycle_of

log = logging.getLogger(__name__)


@dataclass
class DeadlineTimer:
    """Looks through the case table for clocks that ran out and reports each breach once."""

    #: The case table (:mod:`streams.hub.case_table`), a Faust table.
    table: Any
    rules: dict[str, DeadlineRule]
    catalog: SchemaCatalog
    codec: AvroCodec
    #: The hub's signing key.
    hub_key: SigningKey
    #: The registry the hub's encryption key is found in (a breach seals nothing, but every
    #: signed event names the key its disclosures would be sealed to).
    keys: KeyRegistry
    #: ``kawal.inbound.kawal``, where the hub publishes as an institution of its own.
    hub_inbound: faust.TopicT
    #: Breaches already sent by this worker.
    emitted: set[str] = field(default_factory=set)

    async def look(self) -> None:
        """Publish a DeadlineBreached for every clock that ran out and was not reported yet."""
        now = datetime.now(UTC)
        for case_id, value in iter_cases(self.table):
            if not value["lifecycle"]["clocks"]:
                continue  # most cases run no clock: skip them without building their lifecycle
            case = lifecycle_of(value)
            if case is None:
                continue
            for clock in unreported(case, now):
                rule = self.rules.get(clock["rule_id"])
                if rule is None:
                    continue  # a rule removed from the configuration no longer breaches
                event = breach_event(case_id, case, clock, rule, now)
                event_id = event["envelope"]["event_id"]
                if event_id in self.emitted:
                    continue
                self.emitted.add(event_id)
                hub = hub_sealing_key(self.keys, now)
                value_bytes = encode_signed(
                    self.catalog, self.codec, self.hub_key, "DeadlineBreached", event, hub
                )
                await self.hub_inbound.send(key=case_id.encode(), value=value_bytes)
                log.info("deadline %s breached on case %s", rule.id, case_id)


def register(app: faust.App, timer: DeadlineTimer, interval_seconds: float) -> None:
    """Run ``timer`` every ``interval_seconds`` on ``app``."""
    app.timer(interval_seconds, name="kawal.deadline-timer")(timer.look)
