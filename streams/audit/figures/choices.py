"""Which values the dashboard's filters know: an unknown one is said so, never counted as zero.

A filter of free text that matches no case gives zeros, and zeros read as a finding: a mistyped
election (``pilkada-2042``) would show an election without a single case. So a value is checked
against what the hub knows before any figure is computed:

- **election**: the elections of the cases in the store. The hub keeps no list of elections
  apart from its cases, so an election no case names is unknown, whether mistyped or without
  any report yet; the answer lists the elections of the cases.
- **region**: a Kemendagri code whose province is in the provinces table
  (``streams/data/provinces.toml``); the hub refuses a report of any other province, so
  nothing can be counted there. Regencies are not listed (the project has no checked list):
  ``3399`` is taken as a part of province 33 with no case.
- **agency**: a registered PPK, or the employing agency of a case (the hub takes a report
  naming a PPK not registered yet).

The lists publish names only, never counts, and in alphabetical order (an order by size would
tell the size). They publish nothing the front page does not: its tables by election, region
and institution name every election, region and agency of the store's cases, withheld counts
and all (``streams/audit/stats.py``), so an election of a single case is named there already.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.errors import KawalError
from streams.audit.figures.facts import Projection
from streams.audit.figures.filters import Filters
from streams.domain.zones import provinces


class UnknownFilterError(KawalError):
    """A filter's value is of the right form but names nothing the hub knows.

    Attributes:
        field: ``election``, ``region`` or ``agency``.
        choices: the values every filter knows.
    """

    def __init__(self, field: str, choices: FilterChoices) -> None:
        super().__init__(_DETAILS[field])
        self.field = field
        self.choices = choices

    @property
    def known(self) -> list[Any]:
        """The values the filter knows (see :meth:`FilterChoices.known`)."""
        return self.choices.known(self.field)

    def listed(self) -> str:
        """The message with the known values written out, for a terminal."""
        values = [
            f"{value['code']} ({value['name']})" if isinstance(value, dict) else value
            for value in self.known
        ]
        return f"{self}: {', '.join(values) or 'the hub holds no case yet'}"


#: What an unknown value of each filter means, and what to do.
_DETAILS = {
    "election": (
        "no case of this election is in the hub: check its spelling, or choose one of the "
        "elections of the hub's cases"
    ),
    "region": (
        "no province has this code: choose a province's Kemendagri code (a regency or city "
        "code starts with its province's two digits)"
    ),
    "agency": "no registered PPK nor any case's employing agency has this id: choose one of them",
}


@dataclass(frozen=True)
class FilterChoices:
    """The values each filter knows.

    Attributes:
        elections: the elections of the store's cases, sorted.
        agencies: the registered PPKs and the employing agencies of the cases, sorted.
    """

    elections: tuple[str, ...]
    agencies: tuple[str, ...]

    def known(self, field: str) -> list[Any]:
        """The known values of ``field`` as JSON-ready values (a province: code and name)."""
        if field == "election":
            return list(self.elections)
        if field == "agency":
            return list(self.agencies)
        return [{"code": code, "name": row.name} for code, row in sorted(provinces().items())]

    def check(self, filters: Filters) -> None:
        """Refuse a filter whose value the hub does not know.

        Raises:
            UnknownFilterError: the first filter, in the order election, region, agency, whose
                value is unknown.
        """
        if filters.election is not None and filters.election not in self.elections:
            raise UnknownFilterError("election", self)
        region = (filters.region or "").replace(".", "")
        if region and region[:2] not in provinces():
            raise UnknownFilterError("region", self)
        if filters.agency is not None and filters.agency not in self.agencies:
            raise UnknownFilterError("agency", self)


def choices_of(projection: Projection, registered_ppks: frozenset[str]) -> FilterChoices:
    """The values the filters know, from the cases of ``projection`` and the registry's PPKs."""
    elections = {case.outcome.election for case in projection.cases} - {""}
    agencies = ({case.outcome.institution for case in projection.cases} | registered_ppks) - {""}
    return FilterChoices(tuple(sorted(elections)), tuple(sorted(agencies)))
