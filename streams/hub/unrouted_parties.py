"""Entries a party of their case never received, because the case names it unregistered.

A report may name a PPK (or a region whose inspectorate) the registry does not hold: the hub
takes it, as the case's follow-up deadlines still run
(:func:`streams.domain.parties.check_report`), but the router has nobody to send that party's
entries to. That is no silent drop: each such
entry is counted (``kawal_unrouted_entries_total``, by role, alert ``KawalEntriesUnrouted``)
and the first one of each institution is logged with its id, which is an institution's, never
a person's. Once registered, the institution receives the case's next entries and reads the
earlier ones from the trail.
"""

from __future__ import annotations

import logging

from monitoring.metrics import HubMetrics

log = logging.getLogger(__name__)

#: Institutions remembered as logged: a sender mistyping ids cannot grow the set without end.
LOGGED_AT_MOST = 10_000


def report_unrouted(
    metrics: HubMetrics,
    logged: set[str],
    unrouted: list[tuple[str, str]],
    entry: tuple[str, int, str],
) -> None:
    """Count each ``(role, institution id)`` in ``unrouted`` missing ``entry``; log new ids.

    ``entry`` is the case id, sequence number and event type of the entry; ``logged`` the
    ids logged so far by this process.
    """
    case_id, seq, event_type = entry
    for role, institution in unrouted:
        metrics.unrouted_entry(role)
        if institution in logged:
            continue
        if len(logged) < LOGGED_AT_MOST:
            logged.add(institution)
        log.error(
            "entry %s/%s (%s) reached no %s: its case names %s, which is not registered; "
            "register it (docs/operations.md#kawalentriesunrouted), and it reads the case's "
            "earlier entries from the trail; later ones are counted in "
            "kawal_unrouted_entries_total",
            case_id,
            seq,
            event_type,
            role,
            institution,
        )
