"""The dashboard's region filter takes every Kemendagri code a case can carry."""

from __future__ import annotations

import pytest

from schemas.field_formats import is_region_code
from streams.audit.figures.facts import CaseFacts
from streams.audit.figures.filters import FilterError, matches_place, parse_filters
from streams.audit.stats import CaseOutcome

#: A village of Semarang city (10 digits), as a ReportReceived may carry it.
VILLAGE = "3374011001"


def village_case() -> CaseFacts:
    return CaseFacts(CaseOutcome("pilkada-2024", VILLAGE, "ppk.3374", reported=True))


@pytest.mark.parametrize("region", ["33", "3374", "337401", VILLAGE, "33.74.01.1001"])
def test_every_level_of_a_case_region_filters_it(region: str) -> None:
    assert is_region_code(VILLAGE)

    filters = parse_filters({"region": region})

    assert matches_place(village_case(), filters)


@pytest.mark.parametrize("region", ["3", "337", "33740110", "33740110011", "33..74"])
def test_a_code_of_no_level_is_refused_with_what_to_give(region: str) -> None:
    with pytest.raises(FilterError, match="Kemendagri code such as 33 or 3374") as refused:
        parse_filters({"region": region})

    assert refused.value.field == "region"
