"""Router agent: ``kawal.case.audit`` → ``kawal.outbound.<inst>``.

Each institution's feed carries the entries of the cases it is party to whose event type its
role consumes (schema attribute ``kawal.consumed_by``), with only the disclosures its role is
entitled to (:mod:`streams.redaction`). The recommending authority receives the cases of its
period (:mod:`streams.authority`), so KASN keeps its cases and BKN receives the later ones.

The parties of a case (:mod:`streams.parties`) are read off its first entry (the report) and
kept in the table ``case-parties``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import faust

from monitoring.metrics import Stage
from schemas.codec import CodecError
from streams.dlq import dead_letter, reason_for_codec_error, register_per_event
from streams.parties import CaseParties, parties_of_report, recipients
from streams.redaction import disclosures_for

if TYPE_CHECKING:
    from streams.hub import Hub


def register(hub: Hub) -> None:
    """Attach the router agent to the hub's app."""
    register_per_event(hub, hub.case_audit, "kawal.router", Stage.ROUTER, route)


async def route(hub: Hub, message: faust.types.Message) -> None:
    """Send one audit entry to every institution entitled to it."""
    try:
        entry = hub.codec.decode(message.value or b"").record
        parties = case_parties(hub, entry)
    except CodecError as exc:
        await dead_letter(hub, Stage.ROUTER, reason_for_codec_error(exc), str(exc), message)
        return
    if parties is None:
        return  # entries of a case whose report this worker never saw cannot be routed
    # Most recipients share a view (no disclosure at all): encode each distinct view once.
    views: dict[tuple[str, ...], bytes] = {}
    for institution, roles in recipients(
        hub.catalog, hub.institutions, parties, entry["event_type"]
    ):
        disclosures = disclosures_for(entry["disclosures"], roles)
        view = tuple(item["field"] for item in disclosures)
        if view not in views:
            feed = entry | {"disclosures": disclosures}
            views[view] = hub.codec.encode("kawal.AuditEntry", feed, checked=False)
        await hub.outbound[institution.id].send(key=message.key, value=views[view])


def case_parties(hub: Hub, entry: dict[str, Any]) -> CaseParties | None:
    """The case's parties: from the table, or from its report (then remembered).

    Raises:
        CodecError: the report inside the entry cannot be decoded.
    """
    known = hub.parties.get(entry["case_id"])
    if known:
        return CaseParties(**known)
    if entry["event_type"] != "ReportReceived":
        return None
    parties = parties_of_report(hub.authority_map, hub.codec.decode(entry["event"]).record)
    hub.parties[entry["case_id"]] = asdict(parties)
    return parties
