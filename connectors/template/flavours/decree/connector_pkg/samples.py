"""What the system writes to its outbox: one signed decree, as its export job writes it."""

from __future__ import annotations

from typing import Any

#: What the records are, for messages.
RECORDS = "decrees"
#: Overrides of :func:`sample` that parse but that the shared schemas refuse.
UNFIT = {"sanction_kind": "NOT_A_KIND"}  # left to the hub's schema check


def sample(number: str) -> dict[str, Any]:
    """A decree the PPK signed, ``number`` making it new."""
    return {
        "decree_number": f"800/{number}/2024",
        "reported_by": "bawaslu.33",  # who first reported the case, and its number there
        "case_number": f"LP/{number}/2024",
        "sanction_level": "MEDIUM",
        "sanction_kind": "ALLOWANCE_CUT_25_6_MONTHS",
        "effective_on": "2024-12-02",
        "signed_at": "2024-11-25T10:00:00+07:00",
    }
