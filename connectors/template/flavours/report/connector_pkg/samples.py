"""What the system writes to its outbox: one report, as its export job writes it."""

from __future__ import annotations

from typing import Any

#: What the records are, for messages.
RECORDS = "reports"
#: Overrides of :func:`sample` that parse but that the shared schemas refuse.
UNFIT = {"violation": "NOT_A_CATEGORY"}  # left to the hub's schema check


def sample(number: str) -> dict[str, Any]:
    """A report the system registered, ``number`` making it new."""
    return {
        "id": f"R-{number}",
        "case_number": f"LP/{number}/2024",
        "reported_at": "2024-11-01T09:30:00+07:00",
        "election": "pilkada-2024",
        "region_code": "%%region%%",
        "employing_agency": "ppk.3374",
        "violation": "ETHICS_SOCIAL_MEDIA_CAMPAIGN",
        "summary": "Shared campaign material in an official group.",
        "subject_nip": "198501012010011001",
        "subject_name": "Subject Name",
        "reporter": f"U-{number}",  # the system's own reference of the person
    }
