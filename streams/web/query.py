"""Query parameters given more than once, which no view reads as a list.

``request.query.get`` answers the first of ``?region=33&region=34``: read so, a filter given
twice would pass off the figures (or the reads) of one value as those of both. A view that
narrows by its parameters refuses a repeated one instead, and says which.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from multidict import MultiMapping


def repeated(query: Mapping[str, Any], names: Iterable[str]) -> str | None:
    """The first of ``names`` that ``query`` holds more than once, or None (a dict holds none)."""
    if not isinstance(query, MultiMapping):
        return None
    return next((name for name in names if len(query.getall(name, ())) > 1), None)


def repeated_detail(name: str) -> str:
    """What a refusal of a repeated parameter says."""
    return f"{name} is given more than once; give it once (ask once per value)"
