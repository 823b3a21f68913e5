"""The dashboard's figures with the names of their agencies and filters beside the codes.

The exports keep every field they had (``agency`` stays the institution id, ``filters`` the
codes given), so a script written against them keeps working; each agency row gains
``agency_name`` and the view ``filter_names``: the registry's name, or None where the hub has
none (:mod:`streams.audit.public_names`). A row withheld whole without its agency's id (the
filters choose fewer than K cases) gains no name either: the name would give the id back.

Applied to the view a reader is served, after its audience's rows are in place
(:mod:`streams.audit.figures.own_row`, :mod:`streams.audit.figures.every_case`), which rebuild
the rows they show.
"""

from __future__ import annotations

from typing import Any

from streams.audit.public_names import PublicNames

#: The figures with a row per employing agency.
AGENCY_FIGURES = ("violation_ratio", "follow_up", "catatan_merah")
#: The key of an agency row's name.
AGENCY_NAME = "agency_name"
#: The key of the filters' names.
FILTER_NAMES = "filter_names"


def with_names(view: dict[str, Any], names: PublicNames) -> dict[str, Any]:
    """A copy of ``view`` whose agency rows and filters carry their names."""
    filters = view["filters"]
    named = {
        figure: [row | {AGENCY_NAME: names.agency(row["agency"])} for row in view[figure]]
        for figure in AGENCY_FIGURES
    }
    return (
        view
        | named
        | {
            FILTER_NAMES: {
                "region": names.region(filters["region"]),
                "agency": names.agency(filters["agency"]),
            }
        }
    )


#: The front page's groupings by a code the hub may name, and the kind of each.
NAMED_GROUPINGS = {"by_region": "region", "by_institution": "institution"}


def stats_with_names(view: dict[str, Any], names: PublicNames) -> dict[str, Any]:
    """A copy of the front page's statistics whose rows by region and agency carry names.

    Each row of ``by_region`` gains ``region_name`` and of ``by_institution``
    ``institution_name``: the name, or None where the hub has none.
    """
    lookup = {"region": names.region, "institution": names.agency}
    return view | {
        key: [row | {f"{kind}_name": lookup[kind](row[kind])} for row in view[key]]
        for key, kind in NAMED_GROUPINGS.items()
    }
