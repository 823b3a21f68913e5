"""A case's lifecycle after an event that was accepted: one fold for the hub and its readers.

Ingress (:mod:`streams.hub.ingress`) applies it to an event it has just checked; the audit
store's readers (:mod:`streams.audit.lifecycles`) apply it to each stored entry in trail order,
so a case read back from the store holds the very phase and clocks the hub's case table held.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from streams.domain.authority import AuthorityMap
from streams.domain.calendar import WorkingCalendar
from streams.domain.deadlines import DeadlineRule, update_clocks
from streams.domain.lifecycle import CaseLifecycle, advance, start
from streams.domain.parties import supervisor_of


def acting_authority(
    authorities: AuthorityMap, case: CaseLifecycle | None, event_time: datetime
) -> str:
    """The body holding the recommending authority of the case on the event's date.

    A hand-over is never undone: an event dated before the transfer that arrives once the case
    was handed over finds it with the new holder.

    Raises:
        AuthorityMapError: the map names no holder on that date.
    """
    if case is None:
        return authorities.authority_on(event_time)
    acting = authorities.acting_on(datetime.fromisoformat(case.reported_at), event_time)
    return authorities.later_holder(case.authority, acting)


def next_state(
    case: CaseLifecycle | None,
    record: dict[str, Any],
    authority: str,
    deadline_rules: dict[str, DeadlineRule],
    calendar: WorkingCalendar,
    received_at: datetime | None = None,
    *,
    registered: Collection[str],
) -> CaseLifecycle:
    """The lifecycle after the accepted event ``record`` (``case`` is left unchanged).

    The case's supervisor is chosen once, at its report, or at its first event after the hub
    began keeping it (:func:`streams.domain.parties.supervisor_of`): an office registered
    later takes over no case, and a clock keeps the supervisor it started with.

    Args:
        case: The case before the event; None for the report that opens it.
        record: The event.
        authority: The body acting as recommending authority (:func:`acting_authority`).
        deadline_rules: The deadline rules by id.
        calendar: The working-day calendar.
        received_at: When the hub recorded the event (see
            :func:`streams.domain.deadlines.update_clocks`).
        registered: The ids of the registered institutions, of which Bawaslu offices count.
    """
    event_type = record["envelope"]["event_type"]
    after = advance(case.copy(), event_type, record) if case else start(record, authority)
    # A case reported before a transfer is handed over to the new holder with its first event
    # after it: the router and the deadline timer then address the new holder.
    after.authority = authority
    if after.supervisor is None:
        after.supervisor = supervisor_of(after.reporter, after.region_code, registered)
    update_clocks(after, deadline_rules, calendar, event_type, record, received_at)
    return after
