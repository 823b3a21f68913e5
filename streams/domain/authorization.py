"""Who may emit what for which case.

The sender's role comes from the registry, the event's emitters from the schema attribute
``kawal.emitted_by``, and the recommending authority from the dated authority map.

The recommending-authority role is never taken from the registry: an institution holds it for
a case only while the authority map names it (:meth:`AuthorityMap.acting_on`), so KASN acts
on its cases until its dissolution and BKN on every case, KASN's pending ones included, after.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from schemas.catalog import SchemaCatalog
from streams.domain.authority import RECOMMENDING_AUTHORITY
from streams.domain.institutions import INSPECTORATE_PREFIX, Institution
from streams.domain.lifecycle import CaseLifecycle
from streams.domain.reasons import Reason, Rejection
from streams.domain.zones import RegionError, province_of

#: Events a PPK may send only for a civil servant it employs: its follow-up of the
#: recommendation, and the remedies it files on the sanctioned civil servant's behalf.
OWN_EMPLOYEE_EVENTS = frozenset(
    {
        "ExaminationHeld",
        "SanctionImposed",
        "ClarificationReceived",
        "ObjectionFiled",
        "AppealFiled",
    }
)
#: Digits of a regency's or city's region code, the lowest level with an inspectorate.
REGENCY_DIGITS = 4


def roles_for_case(institution: Institution, case_authority: str) -> frozenset[str]:
    """The roles ``institution`` acts in for a case whose authority is ``case_authority``."""
    roles = {institution.role} - {RECOMMENDING_AUTHORITY}
    if institution.id == case_authority:
        roles.add(RECOMMENDING_AUTHORITY)
    return frozenset(roles)


def roles_ever_held(institution: Institution, authorities: Iterable[str]) -> frozenset[str]:
    """Every role ``institution`` acts in for some case, whatever its authority.

    Its registered role, the recommending authority aside, and the recommending authority if
    it is one of ``authorities``, the bodies the authority map names
    (:attr:`streams.domain.authority.AuthorityMap.authorities`).
    """
    return frozenset(
        roles_for_case(institution, institution.id if institution.id in authorities else "")
    )


def emitter_refusal(
    catalog: SchemaCatalog, sender: Institution, roles: frozenset[str], event_type: str
) -> Rejection | None:
    """Why ``sender``, acting in ``roles``, may never emit ``event_type``, or None if it may.

    The event's emitters are the roles its schema names (``kawal.emitted_by``).
    """
    allowed = set(catalog.emitted_by(event_type))
    if roles & allowed:
        return None
    return Rejection(
        Reason.UNAUTHORIZED,
        f"{sender.id} ({', '.join(sorted(roles)) or 'no role'}) may not emit {event_type}; "
        f"it is emitted by: {', '.join(sorted(allowed)) or 'no institution'}",
    )


def authorize(
    catalog: SchemaCatalog,
    sender: Institution,
    event_type: str,
    record: Mapping[str, Any],
    case: CaseLifecycle | None,
    case_authority: str,
) -> Rejection | None:
    """Why ``sender`` may not emit this event for this case, or None if it may."""
    roles = roles_for_case(sender, case_authority)
    refusal = emitter_refusal(catalog, sender, roles, event_type)
    if refusal is not None and sender.role == RECOMMENDING_AUTHORITY:
        return Rejection(
            Reason.UNAUTHORIZED,
            f"{sender.id} does not hold the recommending authority for this case on the "
            f"event's date; {case_authority} does (data/authority.toml): {case_authority} "
            f"sends {event_type}",
        )
    return refusal or _case_scope(sender, event_type, record, case, case_authority, roles)


def _case_scope(
    sender: Institution,
    event_type: str,
    record: Mapping[str, Any],
    case: CaseLifecycle | None,
    case_authority: str,
    roles: frozenset[str],
) -> Rejection | None:
    if event_type == "RecommendationIssued" and record["authority"] != sender.id:
        return Rejection(Reason.UNAUTHORIZED, "the authority field must name the sender")
    if event_type == "ReferralForwarded" and record["to_authority"] != case_authority:
        return Rejection(
            Reason.UNAUTHORIZED,
            f"on the referral's date the recommending authority of this case is "
            f"{case_authority}; refer it to {case_authority}",
        )
    is_own_ppk = case is None or sender.id == case.employing_agency
    if event_type in OWN_EMPLOYEE_EVENTS and roles == {"ppk"} and not is_own_ppk:
        return Rejection(
            Reason.UNAUTHORIZED,
            f"only the employing agency's PPK may send {event_type}, and {sender.id} is not "
            "the employing agency the case's report names; check the case reference its "
            "case_id derives from (the reporting institution and its case number)",
        )
    if roles == {"regional_inspectorate"}:
        return _inspectorate_scope(sender, record, case)
    return None


def _inspectorate_scope(
    sender: Institution, record: Mapping[str, Any], case: CaseLifecycle | None
) -> Rejection | None:
    """An inspectorate acts in its own region only: the one the case (or report) names.

    An event of a case the hub does not hold names no region: the lifecycle refuses it. A
    report's region that names no province is left to the report's own check
    (``unknown_region``): no inspectorate is in charge of it, and the text in its place, which
    may be anything, is never quoted back.
    """
    region = case.region_code if case is not None else record.get("region_code")
    if region is None or not _is_province_region(region):
        return None
    own = inspectorate_of(region)
    if sender.id == own:
        return None
    return Rejection(
        Reason.UNAUTHORIZED,
        f"{sender.id} acts in its own region only; this case concerns region {region}, whose "
        f"inspectorate is {own}: pass the matter to {own}",
    )


def inspectorate_of(region: str) -> str:
    """The id of the inspectorate in charge of a case in ``region`` (a Kemendagri code).

    Inspectorates are a province's or a regency's or city's: a case in a district (six digits)
    or a village (ten) is its regency's or city's, a case at province level its province's.

    Example:
        >>> inspectorate_of("3374011001"), inspectorate_of("337401"), inspectorate_of("33")
        ('inspektorat.3374', 'inspektorat.3374', 'inspektorat.33')
    """
    return f"{INSPECTORATE_PREFIX}{region[:REGENCY_DIGITS]}"


def _is_province_region(region: str) -> bool:
    """Whether ``region`` is a Kemendagri code of a known province's region."""
    try:
        province_of(region)
    except RegionError:
        return False
    return True
