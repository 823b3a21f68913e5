"""Who a case concerns, and which institutions receive which of its entries.

The parties of a case are read off its report: the recommending authority of the report's
date (:mod:`streams.domain.authority`), or the one its later events handed it to
(:func:`handed_over`), the reporting supervisor, the employing agency and the region (its
inspectorate, and its Bawaslu offices for a report they must register: :func:`registrars`); a report
that names no province, no PPK or no election the statistics can use opens no case
(:func:`check_report`).
Fixed roles (BKN, the appeals body) are party to every case. The ministries that oversee
follow-up (KemenPAN-RB, Kemendagri) are party to a case only once one of its deadlines was
breached (:data:`BREACH_EVENT`): they receive that breach, and may read the case from then on,
but learn nothing of the cases whose clocks all held. The router sends each entry to the
parties whose role consumes its event type; ``kawal case trail --as`` shows a party its view.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from schemas.catalog import SchemaCatalog
from schemas.field_formats import (
    ELECTION_FORM,
    NIP_FORM,
    REPORTER_REF_FORM,
    is_election,
    is_nip,
    is_reporter_ref,
)
from schemas.identity import KAWAL_CASE_NAMESPACE, case_id_for
from streams.domain.authority import AuthorityMap
from streams.domain.authorization import REGENCY_DIGITS, inspectorate_of, roles_for_case
from streams.domain.clear_fields import case_number_refusal
from streams.domain.deadlines import is_breached
from streams.domain.institutions import INSTITUTION_ID, Institution
from streams.domain.lifecycle import CaseLifecycle
from streams.domain.reasons import Reason, Rejection
from streams.domain.zones import RegionError, province_of

#: The hub's own event when a legal clock runs out; its first one makes the ministries parties.
BREACH_EVENT = "DeadlineBreached"
#: Roles party to every case: the personnel agency (BKN) and the appeals body.
EVERY_CASE_ROLES = frozenset({"personnel_agency", "appeals_body"})
#: The election supervisor party to every case, whoever reported it: Bawaslu RI.
NATIONAL_SUPERVISOR = "bawaslu"
#: How the id of a province's or regency's Bawaslu office begins; its region code follows.
SUPERVISOR_PREFIX = "bawaslu."
#: Digits of a province's region code.
PROVINCE_DIGITS = 2


@dataclass(frozen=True)
class CaseParties:
    """The institutions a case concerns beyond fixed roles."""

    authority: str
    reporter: str
    employing_agency: str
    region_code: str
    #: Whether a :data:`BREACH_EVENT` of the case exists (the ministries are party to it).
    breached: bool = False


def parties_of_report(authority_map: AuthorityMap, report: Mapping[str, Any]) -> CaseParties:
    """The parties named by a decoded ReportReceived."""
    envelope = report["envelope"]
    return CaseParties(
        authority=authority_map.authority_on(envelope["event_time"]),
        reporter=envelope["source"],
        employing_agency=report["employing_agency"],
        region_code=report["region_code"],
    )


def parties_of_case(case: CaseLifecycle) -> CaseParties:
    """The parties of a case as its lifecycle has them (the authority handed over, if it was).

    A lifecycle kept before it recorded every breach still shows its follow-up breach and the
    breaches of its clocks still waiting.
    """
    return CaseParties(
        authority=case.authority,
        reporter=case.reporter,
        employing_agency=case.employing_agency,
        region_code=case.region_code,
        breached=case.deadline_breached
        or case.follow_up_breached
        or any(is_breached(clock) for clock in case.clocks),
    )


def handed_over(
    authority_map: AuthorityMap,
    parties: CaseParties,
    reported_at: datetime,
    later: Iterable[datetime],
) -> CaseParties:
    """The parties of a case after its events dated ``later``, as ingress hands it over.

    A transfer of the recommending authority hands a pending case to the new holder with its
    first event dated after it (:meth:`AuthorityMap.later_holder`).
    """
    holder = parties.authority
    for moment in later:
        holder = authority_map.later_holder(holder, authority_map.acting_on(reported_at, moment))
    return replace(parties, authority=holder)


def check_report(
    institutions: Mapping[str, Institution],
    report: Mapping[str, Any],
    disclosed: Mapping[str, str],
) -> Rejection | None:
    """Why a ReportReceived cannot open a case with the parties it names, or None.

    Its case_id must be the one its sender derives from its own case number
    (:func:`schemas.identity.case_id_for`): a report sent again then finds its case.
    Its region must be a Kemendagri code of a province: the case's inspectorate, its time zone
    and the statistics of its region are read off it. Its employing agency must be a PPK's
    institution id; a PPK not (yet) registered is taken, since its follow-up deadlines still
    run and show it overdue. Its election must be one the statistics can be filtered by. The
    subject's NIP, as the sender disclosed it to the hub (``disclosed``, field to value), must
    be 18 digits, or empty when the reporter does not know it: BKN finds the civil servant in
    SIASN by it. Its reporter_ref, which travels in clear, must be a per-case pseudonym or
    its sender's own finding. No value is quoted back: any of these fields may hold anything.
    """
    if not report["case_number"]:
        return Rejection(
            Reason.CASE_ID_NOT_DERIVED,
            "case_number is empty: a report opens its case under the UUIDv5 of "
            "'<envelope.source>:<case_number>', so it carries its sender's own case number",
        )
    if refused := case_number_refusal(report["case_number"]):
        return refused
    derived = case_id_for(report["envelope"]["source"], report["case_number"])
    if report["envelope"]["case_id"] != derived:
        return Rejection(
            Reason.CASE_ID_NOT_DERIVED,
            f"a report opens its case under the UUIDv5, in namespace {KAWAL_CASE_NAMESPACE}, of "
            f"'<envelope.source>:<case_number>' exactly as written, here {derived}; send "
            "that case_id (docs/signing.md, Publishing an event), so that the same report sent "
            "again is recognised",
        )
    nip = disclosed.get("subject_nip", "")
    if nip and not is_nip(nip):
        return Rejection(Reason.INVALID_NIP, f"subject_nip must be {NIP_FORM}, or empty if unknown")
    if not is_reporter_ref(report["reporter_ref"], report["envelope"]["source"]):
        return Rejection(
            Reason.REPORTER_REF_NOT_PSEUDONYM,
            f"reporter_ref must be {REPORTER_REF_FORM}; it travels in clear, so the reporter's "
            "own reference, name or number never goes there",
        )
    if not is_election(report["election"]):
        return Rejection(Reason.INVALID_ELECTION, f"election must be {ELECTION_FORM}")
    try:
        province_of(report["region_code"])
    except RegionError as exc:
        return Rejection(Reason.UNKNOWN_REGION, f"region_code: {exc}")
    agency = report["employing_agency"]
    if not INSTITUTION_ID.fullmatch(agency):
        return Rejection(
            Reason.NOT_AN_EMPLOYING_AGENCY,
            "employing_agency is not an institution id (letters, digits, '.', '_' and '-'): "
            "name the PPK of the agency that employs the civil servant, such as ppk.3374",
        )
    registered = institutions.get(agency)
    if registered is not None and registered.role != "ppk":
        return Rejection(
            Reason.NOT_AN_EMPLOYING_AGENCY,
            f"employing_agency names an institution registered as {registered.role}, not as "
            "a PPK: name the PPK of the agency that employs the civil servant",
        )
    return None


def party_to_every_case(institution: Institution) -> bool:
    """Whether ``institution`` is party to every case, whoever holds it and wherever it is.

    BKN (the personnel agency), the appeals body and the national election supervisor
    (:data:`NATIONAL_SUPERVISOR`): each reads every case's trail. The recommending authority
    is party to the cases it holds only (KASN's before the transfer, BKN's after).
    """
    return institution.role in EVERY_CASE_ROLES or (
        institution.role == "election_supervisor" and institution.id == NATIONAL_SUPERVISOR
    )


def is_party(institution: Institution, roles: frozenset[str], parties: CaseParties) -> bool:
    """Whether ``institution`` is concerned by the case in one of its ``roles``."""
    if "recommending_authority" in roles or roles & EVERY_CASE_ROLES:
        return True
    if "election_supervisor" in roles:
        return institution.id in (parties.reporter, NATIONAL_SUPERVISOR, *registrars(parties))
    if "ppk" in roles:
        return institution.id == parties.employing_agency
    if "regional_inspectorate" in roles:
        return institution.id == inspectorate_of(parties.region_code)
    return "ministry" in roles and parties.breached


def registrars(parties: CaseParties) -> tuple[str, ...]:
    """The Bawaslu offices that register a report no Bawaslu office filed; none if one did.

    Only a supervisor registers a report (DOMAIN.md), so one that an inspectorate or BKN's
    portal filed must reach the supervisor of its region (:func:`supervisors_of`), or it would
    wait at "received" past its registration deadline. A report filed with a Bawaslu office
    is that office's to register: no other regional office is party to it.
    """
    if is_supervisor(parties.reporter):
        return ()
    return supervisors_of(parties.region_code)


def is_supervisor(institution_id: str) -> bool:
    """Whether ``institution_id`` names a Bawaslu office: Bawaslu RI, a province's, a regency's."""
    return institution_id == NATIONAL_SUPERVISOR or institution_id.startswith(SUPERVISOR_PREFIX)


def supervisor_of(reporter: str, region: str, registered: Collection[str]) -> str:
    """The Bawaslu office that answers for registering and verifying a report.

    The reporting office when a Bawaslu office filed it (Bawaslu RI's own finding included).
    A report an inspectorate or BKN's portal filed is its region's: the regency's or city's
    office, the closest, to which Perbawaslu 7/2022 gives reports of regional matters, when
    ``registered`` (the registry's ids) holds it; else the province's, registered or not (an
    unregistered office still answers for the deadline and shows overdue, as a PPK does).

    Example:
        >>> supervisor_of("inspektorat.3374", "337401", {"bawaslu.33", "bawaslu.3374"})
        'bawaslu.3374'
        >>> supervisor_of("inspektorat.3374", "3374", {"bawaslu.33"})
        'bawaslu.33'
        >>> supervisor_of("bawaslu.33", "3374", {"bawaslu.33", "bawaslu.3374"})
        'bawaslu.33'
    """
    if is_supervisor(reporter):
        return reporter
    offices = supervisors_of(region)
    closest = offices[-1]
    return closest if closest in registered else offices[0]


def supervisors_of(region: str) -> tuple[str, ...]:
    """The Bawaslu offices of ``region`` (a Kemendagri code): its province's and its regency's.

    Example:
        >>> supervisors_of("3374011001"), supervisors_of("33")
        (('bawaslu.33', 'bawaslu.3374'), ('bawaslu.33',))
    """
    province = f"{SUPERVISOR_PREFIX}{region[:PROVINCE_DIGITS]}"
    if len(region) < REGENCY_DIGITS:
        return (province,)
    return province, f"{SUPERVISOR_PREFIX}{region[:REGENCY_DIGITS]}"


def case_roles(institution: Institution, parties: CaseParties) -> frozenset[str] | None:
    """The roles ``institution`` acts in for the case, or None if it is not a party."""
    roles = roles_for_case(institution, parties.authority)
    return roles if is_party(institution, roles, parties) else None


def recipients(
    catalog: SchemaCatalog,
    institutions: Iterable[Institution],
    parties: CaseParties,
    event_type: str,
) -> list[tuple[Institution, frozenset[str]]]:
    """Institutions that receive ``event_type`` of this case, with the roles they act in.

    A breach counts as one of the case's: the ministries receive the breach that makes them
    parties.
    """
    consumers = set(catalog.consumed_by(event_type))
    if event_type == BREACH_EVENT:
        parties = replace(parties, breached=True)
    found = []
    for institution in institutions:
        roles = case_roles(institution, parties)
        if roles is not None and roles & consumers:
            found.append((institution, roles))
    return found


def unregistered_parties(
    catalog: SchemaCatalog, registered: Collection[str], parties: CaseParties, event_type: str
) -> list[tuple[str, str]]:
    """``(role, institution id)`` of each party entitled to ``event_type`` not registered.

    The institutions a report names by id, its PPK and its region's inspectorate, may not be
    registered (yet): the hub takes such a report (:func:`check_report`), and the router has
    nobody to send their entries to. Every other party is registered: the sender, and the
    institutions of fixed roles and of the authority map.
    """
    consumers = catalog.consumed_by(event_type)
    named = (
        ("ppk", parties.employing_agency),
        ("regional_inspectorate", inspectorate_of(parties.region_code)),
    )
    return [(role, id_) for role, id_ in named if role in consumers and id_ not in registered]
