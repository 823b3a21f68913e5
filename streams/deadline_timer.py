"""Deadline timer: every few seconds, emit DeadlineBreached for each clock that ran out.

The breach is published on ``kawal.inbound.kawal``, the hub's own inbound topic, so it passes
ingress like any institution's event (authorized for the hub role only) and stops its clock
there. Breach event ids derive from the clock, so a second look, or a second worker holding a
standby copy of the table, produces a duplicate that ingress refuses instead of a second breach.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from streams.case_table import lifecycle_of
from streams.deadlines import breach_event, overdue

if TYPE_CHECKING:
    from streams.hub import Hub

log = logging.getLogger(__name__)


def register(hub: Hub) -> None:
    """Attach the deadline timer to the hub's app."""
    emitted: set[str] = set()

    async def deadline_timer() -> None:
        now = datetime.now(UTC)
        for case_id, value in list(hub.case_table.items()):
            if not value["lifecycle"]["clocks"]:
                continue  # most cases run no clock: skip them without building their lifecycle
            case = lifecycle_of(value)
            if case is None:
                continue
            for clock in overdue(case, now):
                rule = hub.deadline_rules.get(clock["rule_id"])
                if rule is None:
                    continue  # a rule removed from the configuration no longer breaches
                event = breach_event(case_id, case, clock, rule, now)
                event_id = event["envelope"]["event_id"]
                if event_id in emitted:
                    continue
                emitted.add(event_id)
                value_bytes = hub.codec.encode_canonical("DeadlineBreached", event)
                await hub.hub_inbound.send(key=case_id.encode(), value=value_bytes)
                log.info("deadline %s breached on case %s", rule.id, case_id)

    timer = hub.app.timer(hub.settings.deadline_check_seconds, name="kawal.deadline-timer")
    timer(deadline_timer)
