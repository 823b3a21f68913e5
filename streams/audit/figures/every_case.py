"""The follow-up figures by agency, unwithheld, for a reader party to every case.

The small-numbers rule (:mod:`streams.audit.figures.small_groups`) keeps a reader who knows of
one case from learning its outcome out of a public table. A reader party to every case already
reads every case's trail: BKN, which must see which PPKs leave its sanction recommendations
without follow-up, the appeals body and Bawaslu RI
(:func:`streams.domain.parties.party_to_every_case`), and an operator, who sees every case's
row and timeline (personal data withheld). Withholding a count from them protects no one.

Their view is the public view with the ``follow_up`` figure computed again without the rule:
every PPK's real recommended, followed up, not followed up (pending, overdue, closed without
follow-up) and rate, lowest rate first, each row listing the columns the public sees withheld
(:data:`PUBLIC_WITHHELD`) and the ids of its recommendations still pending (within the
follow-up deadline) and overdue (:data:`PENDING_CASES`, :data:`OVERDUE_CASES`), so that the
reader can open each case. Every other figure stays as the public sees it. The view ends with
:data:`EVERY_CASE_VIEW` (its note in ``id`` and ``en``).
"""

from __future__ import annotations

from typing import Any

from streams.audit.figures.agencies import NOT_FOLLOWED_UP, follow_up_rate
from streams.audit.figures.facts import CaseFacts, Projection
from streams.audit.figures.filters import Filters, reported_cases
from streams.audit.figures.own_row import with_own_follow_up
from streams.audit.figures.small_groups import FOLLOW_UP_RULE
from streams.audit.suppression import withheld

#: The figure caches' key of this view: never an institution id (no ``*`` in one).
EVERY_CASE_READER = "*every-case"
#: Key of the view saying that its follow-up figure is unwithheld, and for whom.
EVERY_CASE_VIEW = "every_case_view"
#: Key of a row listing the columns the public view withholds of it.
PUBLIC_WITHHELD = "public_withheld"
#: Keys of a row listing its recommendations not followed up, still pending or overdue.
PENDING_CASES = "pending_cases"
OVERDUE_CASES = "overdue_cases"
#: What the view says, in both languages.
NOTE = {
    "id": "Angka tindak lanjut per PPK ditampilkan utuh karena Anda membaca sebagai pihak "
    "semua kasus (BKN, badan banding, Bawaslu RI) atau operator. Kolom yang ditahan bagi "
    "publik tercantum di public_withheld: jangan diterbitkan.",
    "en": "The follow-up figures per PPK are shown whole because you read as a party to every "
    "case (BKN, the appeals body, Bawaslu RI) or as an operator. The columns the public sees "
    "withheld are listed in public_withheld: do not publish them.",
}


def with_every_follow_up(
    view: dict[str, Any], projection: Projection, filters: Filters
) -> dict[str, Any]:
    """``view`` (the public figures) as a reader party to every case sees it.

    Args:
        view: the public figures of ``projection`` for ``filters``; left unchanged.
        projection: the projection ``view`` was computed from.
        filters: the filters ``view`` was computed for.

    Returns:
        A copy of ``view`` whose ``follow_up`` rows are the real figures of every PPK of the
        chosen cases, each with :data:`PUBLIC_WITHHELD`, :data:`PENDING_CASES` and
        :data:`OVERDUE_CASES`, ending with :data:`EVERY_CASE_VIEW`.
    """
    chosen = reported_cases(projection.cases, filters)
    public = {row["agency"]: withheld(row) for row in view["follow_up"]}
    # The whole selection below K: the public sees one row without even the agency.
    whole = None in public
    rows = [
        {
            **row,
            PUBLIC_WITHHELD: sorted(
                FOLLOW_UP_RULE.protected if whole else public.get(row["agency"], ())
            ),
            **_not_followed_up(chosen, row["agency"]),
        }
        for row in follow_up_rate(chosen)
    ]
    return view | {
        "follow_up": rows,
        EVERY_CASE_VIEW: {"figure": "follow_up", "note": dict(NOTE)},
    }


def reader_view(
    view: dict[str, Any], projection: Projection, filters: Filters, reader: str
) -> dict[str, Any]:
    """``view`` as ``reader`` sees it: :data:`EVERY_CASE_READER`, or a PPK's id (its own row)."""
    if reader == EVERY_CASE_READER:
        return with_every_follow_up(view, projection, filters)
    return with_own_follow_up(view, projection, filters, reader)


def _not_followed_up(chosen: list[CaseFacts], agency: str) -> dict[str, list[str]]:
    """The ids of ``agency``'s recommendations not followed up, pending and overdue."""
    found: dict[str, list[str]] = {PENDING_CASES: [], OVERDUE_CASES: []}
    for case in chosen:
        outcome = case.outcome
        if outcome.institution != agency or not outcome.recommended or outcome.followed_up:
            continue
        state = NOT_FOLLOWED_UP.get(case.follow_up_state or "", "pending")
        key = {"pending": PENDING_CASES, "overdue": OVERDUE_CASES}.get(state)
        if key is not None:
            found[key].append(case.case_id)
    return {key: sorted(ids) for key, ids in found.items()}


def not_followed_up_lines(view: dict[str, Any]) -> list[str]:
    """The recommendations pending and overdue of each PPK of ``view``, as lines of text."""
    lines = ["Recommendations not followed up, by PPK (case ids):"]
    for row in view["follow_up"]:
        for key, word in ((PENDING_CASES, "pending"), (OVERDUE_CASES, "overdue")):
            if row[key]:
                lines.append(f"  {row['agency']}  {word}: {' '.join(row[key])}")
    return lines
