"""Reading moments given on the command line: date-times must carry their UTC offset."""

from __future__ import annotations

from datetime import datetime


def aware_moment(text: str) -> datetime | None:
    """``text`` as an ISO 8601 date-time with its offset, or None if it is not one.

    A moment without an offset would be read in the machine's zone, which differs between an
    institution's laptop and the hub; so it is refused, not guessed.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None
