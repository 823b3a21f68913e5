"""Who a case concerns, and which institutions receive which of its entries.

The parties of a case are read off its report: the recommending authority of the report's
date (:mod:`streams.domain.authority`), the reporting supervisor, the employing agency and the
region.
Fixed roles (BKN, the appeals body) are party to every case. The router sends each entry to the
parties whose role consumes its event type; ``kawal case trail --as`` shows a party its view.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from schemas.catalog import SchemaCatalog
from streams.domain.authority import AuthorityMap
from streams.domain.authorization import roles_for_case
from streams.domain.institutions import Institution


@dataclass(frozen=True)
class CaseParties:
    """The institutions a case concerns beyond fixed roles."""

    authority: str
    reporter: str
    employing_agency: str
    region_code: str


def parties_of_report(authority_map: AuthorityMap, report: Mapping[str, Any]) -> CaseParties:
    """The parties named by a decoded ReportReceived."""
    envelope = report["envelope"]
    return CaseParties(
        authority=authority_map.authority_on(envelope["event_time"]),
        reporter=envelope["source"],
        employing_agency=report["employing_agency"],
        region_code=report["region_code"],
    )


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
    """Institutions that receive ``event_type`` of this case, with the roles they act in."""
    consumers = set(catalog.consumed_by(event_type))
    found = []
    for institution in institutions:
        roles = case_roles(institution, parties)
        if roles is not None and roles & consumers:
            found.append((institution, roles))
    return found
