"""A PPK's own row of the follow-up rate, shown unwithheld to that PPK alone.

A PPK is measured on following up the recommendations it receives, and the small-numbers rule
(:mod:`streams.audit.figures.small_groups`) withholds the row of a PPK with few of them from
everyone. The PPK is party to every case of its civil servants: it receives each
recommendation on its feed, imposes each sanction itself and reads each case's trail, so its
own recommended, followed up and not followed up (in any filter's cases) are figures it already
holds. Its view is the public view with that one row replaced by the row's real figures and
marked as visible to it alone; every other row and every other figure stays as the public sees
it. Where the public row is shown whole, or the filters choose fewer than K cases (the table is
then one row without even the agency's id), the PPK's view is the public one.
"""

from __future__ import annotations

from typing import Any

from streams.audit.figures.agencies import follow_up_rate
from streams.audit.figures.facts import Projection
from streams.audit.figures.filters import Filters, reported_cases
from streams.audit.suppression import withheld

#: Key of the own row naming the one institution it is shown to.
VISIBLE_ONLY_TO = "visible_only_to"
#: Key of the view telling which row is shown to its reader alone, and why.
OWN_ROW = "own_row"
#: What the marker says, in both languages.
NOTE = {
    "id": "Baris {agency} hanya terlihat oleh {agency}: angka tindak lanjutnya sendiri, dari "
    "kasus yang menjadi pihaknya. Publik dan instansi lain melihat baris ini ditahan.",
    "en": "The row of {agency} is visible to {agency} alone: its own follow-up figures, from "
    "cases it is party to. The public and other institutions see this row withheld.",
}


def with_own_follow_up(
    view: dict[str, Any], projection: Projection, filters: Filters, agency: str
) -> dict[str, Any]:
    """``view`` (the public figures) as the PPK ``agency`` sees it.

    Args:
        view: the public figures of ``projection`` for ``filters``; left unchanged.
        projection: the projection ``view`` was computed from.
        filters: the filters ``view`` was computed for.
        agency: the PPK reading (the institution id of its credential).

    Returns:
        ``view`` itself when it shows the PPK no row of its own withheld; otherwise a copy
        whose ``follow_up`` row of ``agency``, in its place, holds the real figures and
        :data:`VISIBLE_ONLY_TO`, and which ends with :data:`OWN_ROW` (figure, agency, note).
    """
    rows: list[dict[str, Any]] = view["follow_up"]
    at = next(
        (index for index, row in enumerate(rows) if row["agency"] == agency and withheld(row)),
        None,
    )
    if at is None:
        return view
    computed = follow_up_rate(reported_cases(projection.cases, filters))
    real = {row["agency"]: row for row in computed}[agency]
    own = dict(view)
    own["follow_up"] = [*rows[:at], {**real, VISIBLE_ONLY_TO: agency}, *rows[at + 1 :]]
    own[OWN_ROW] = {
        "figure": "follow_up",
        "agency": agency,
        "note": {locale: text.format(agency=agency) for locale, text in NOTE.items()},
    }
    return own


def own_row(view: dict[str, Any]) -> dict[str, Any] | None:
    """The row of ``view`` shown to its reader alone, or None in a public view."""
    return next((row for row in view["follow_up"] if VISIBLE_ONLY_TO in row), None)
