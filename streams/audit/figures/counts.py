"""The dashboard's ``counts`` figure: how many of the chosen cases reached each step."""

from __future__ import annotations

from typing import Any

from streams.audit.figures.facts import CaseFacts

#: The counted columns of the ``counts`` figure, in lifecycle order.
COUNTS = ("received", "proven", "recommended", "followed_up", "sanctioned")


def counts(cases: list[CaseFacts]) -> dict[str, Any]:
    """How many of ``cases`` reached each column of :data:`COUNTS` (see the definitions)."""
    return {
        "received": len(cases),
        "proven": sum(case.outcome.proven for case in cases),
        "recommended": sum(case.outcome.recommended for case in cases),
        "followed_up": sum(case.outcome.followed_up for case in cases),
        "sanctioned": sum(case.outcome.sanctioned for case in cases),
    }
