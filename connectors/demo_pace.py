"""How the demo's simulated offices pace and decide each case, by a hash of its id.

Real offices do not handle every report alike nor at once: Bawaslu does not register some
reports (Perbawaslu 7/2022: formal or material requirements not met, filed too late, ...),
finds some registered ones not proven, and takes its time at each step; BKN's staff and the
PPK's office take theirs, and a PPK now and then leaves a recommendation unanswered. The demo's
simulators ask this module what to do with a case and how long to wait before each step. The
answer depends only on the case's id (and, for Bawaslu's own reports, on their order), so a
case gets the same plan on every run and in every test, and no office draws from a shared
random generator whose order would depend on thread timing.

The waits are seconds of the demo, not the law's working days: the deadline rules
(``streams/data/deadlines.toml``) stay as they are, so a case left waiting shows its clock
running toward a due date days away (docs/demo.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

#: What Bawaslu's officers make of a report: not registered, registered but not proven, or
#: proven and referred. Bawaslu's own reports go through this cycle in order, so that a demo
#: of a few minutes shows every outcome (the demo's first case, played at once, is proven); a
#: report of the portal takes the outcome of its hash.
OUTCOME_CYCLE = ("not_registered", "not_proven", "proven", "proven")
#: Why a report was not registered (kawal.ReportRejectionReason), with the officers' note.
REJECTIONS = (
    ("FORMAL_REQUIREMENTS_NOT_MET", "The report names no time or place of the alleged acts."),
    ("MATERIAL_REQUIREMENTS_NOT_MET", "The report gives no account of events and no evidence."),
    ("NOT_A_CIVIL_SERVANT", "The person reported is a contract worker, not a civil servant."),
)
#: Seconds an office may wait before a step: at once (a quiet day), a while, a long while.
WAITS = (10.0, 60.0, 180.0)
#: Share of the referrals BKN's staff find proven, in basis points (85%).
AUTHORITY_PROVEN_BASIS_POINTS = 8_500
#: One PPK in this many leaves a recommendation unanswered: its follow-up clock runs on.
PPK_IGNORES_ONE_IN = 5
#: A recommendation issued this long before the PPK's office saw it is the history's, left
#: unanswered on purpose: deciding it now would count a follow-up of years on the dashboard.
STALE_RECOMMENDATION = timedelta(days=30)


@dataclass(frozen=True)
class CasePlan:
    """What Bawaslu's officers do with one report, and when."""

    #: ``proven``, ``not_registered`` or ``not_proven``.
    outcome: str
    #: Seconds before each step: registration (or the refusal), verification, referral.
    waits: tuple[float, float, float]
    #: The kawal.ReportRejectionReason and the explanation of a refusal.
    rejection: tuple[str, str]


def _draw(case_id: str, purpose: str) -> int:
    """A number from ``case_id`` alone, different for each ``purpose``."""
    digest = hashlib.sha256(f"{purpose}/{case_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def bawaslu_plan(case_id: str, sequence: int | None = None) -> CasePlan:
    """The plan of a report: the ``sequence``-th of Bawaslu's own (from 0), or by its hash."""
    draw = _draw(case_id, "bawaslu")
    cycle = draw if sequence is None else sequence
    waits = tuple(WAITS[(draw >> (4 * step)) % len(WAITS)] for step in range(1, 4))
    return CasePlan(
        outcome=OUTCOME_CYCLE[cycle % len(OUTCOME_CYCLE)],
        waits=(waits[0], waits[1], waits[2]),
        rejection=REJECTIONS[(draw >> 20) % len(REJECTIONS)],
    )


def authority_wait(case_id: str) -> float:
    """Seconds BKN's staff take, after registering a referral, to recommend on it."""
    return WAITS[_draw(case_id, "authority") % len(WAITS)]


def authority_proven(case_id: str, share: float = AUTHORITY_PROVEN_BASIS_POINTS / 10_000) -> bool:
    """Whether BKN's staff find the referral of ``case_id`` proven (``share`` of them are)."""
    return _draw(case_id, "authority-verdict") % 10_000 < round(share * 10_000)


def authority_sanction(case_id: str, kinds: Sequence[str]) -> str:
    """The sanction kind, one of ``kinds``, BKN's staff recommend on ``case_id`` if proven."""
    return kinds[_draw(case_id, "authority-sanction") % len(kinds)]


def ppk_wait(case_id: str) -> float | None:
    """Seconds the PPK's office takes to draft a decree on a recommendation; None: never."""
    draw = _draw(case_id, "ppk")
    if draw % PPK_IGNORES_ONE_IN == 0:
        return None
    return WAITS[(draw >> 8) % len(WAITS)]
