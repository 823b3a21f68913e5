"""Router agent: ``kawal.case.audit`` → ``kawal.outbound.<inst>``.

Each institution's feed carries the entries of the cases it is party to whose event type its
role consumes (schema attribute ``kawal.consumed_by``), with only the disclosures its role is
entitled to (:mod:`streams.redaction`). The recommending authority receives the cases of its
period (:mod:`streams.authority`), so KASN keeps its cases and BKN receives the later ones.

The parties of a case are read off its first entry (the report) and kept in the table
``case-parties``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import faust

from monitoring.metrics import Stage
from schemas.codec import CodecError
from streams.authorization import roles_for_case
from streams.dlq import dead_letter, reason_for_codec_error, register_per_event
from streams.institutions import Institution
from streams.redaction import disclosures_for

if TYPE_CHECKING:
    from streams.hub import Hub


@dataclass(frozen=True)
class CaseParties:
    """The institutions a case concerns beyond fixed roles."""

    authority: str
    reporter: str
    employing_agency: str
    region_code: str


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
    for institution, roles in recipients(hub, parties, entry["event_type"]):
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
    event = hub.codec.decode(entry["event"]).record
    parties = CaseParties(
        authority=hub.authority_map.authority_on(event["envelope"]["event_time"]),
        reporter=event["envelope"]["source"],
        employing_agency=event["employing_agency"],
        region_code=event["region_code"],
    )
    hub.parties[entry["case_id"]] = asdict(parties)
    return parties


def recipients(
    hub: Hub, parties: CaseParties, event_type: str
) -> list[tuple[Institution, frozenset[str]]]:
    """Institutions that receive ``event_type`` of this case, with the roles they act in."""
    consumers = set(hub.catalog.consumed_by(event_type))
    found = []
    for institution in hub.institutions:
        roles = roles_for_case(institution, parties.authority)
        if roles & consumers and is_party(institution, roles, parties):
            found.append((institution, roles))
    return found


def is_party(institution: Institution, roles: frozenset[str], parties: CaseParties) -> bool:
    """Whether ``institution`` is concerned by the case in one of its ``roles``."""
    if "recommending_authority" in roles or roles & {"personnel_agency", "appeals_body"}:
        return True
    if "election_supervisor" in roles:
        return institution.id == parties.reporter or institution.id == "bawaslu"
    if "ppk" in roles:
        return institution.id == parties.employing_agency
    if "regional_inspectorate" in roles:
        return institution.id == f"inspektorat.{parties.region_code}"
    return "ministry" in roles
