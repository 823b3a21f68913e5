"""Query parameters the views read: given more than once, and whole counts.

``request.query.get`` answers the first of ``?region=33&region=34``: read so, a filter given
twice would pass off the figures (or the reads) of one value as those of both. A view that
narrows by its parameters refuses a repeated one instead, and says which. Counts (a proof's
``seq``, a head list's ``after``) are whole numbers in a range the audit store can hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from faust import web
from multidict import MultiMapping


def repeated(query: Mapping[str, Any], names: Iterable[str]) -> str | None:
    """The first of ``names`` that ``query`` holds more than once, or None (a dict holds none)."""
    if not isinstance(query, MultiMapping):
        return None
    return next((name for name in names if len(query.getall(name, ())) > 1), None)


def repeated_detail(name: str) -> str:
    """What a refusal of a repeated parameter says."""
    return f"{name} is given more than once; give it once (ask once per value)"


#: The largest count the audit store can hold (a signed 64-bit integer in SQLite and
#: PostgreSQL); a larger one would overflow the query rather than find nothing.
LARGEST_COUNT = 2**63 - 1


def whole_numbers(
    request: web.Request, least: Mapping[str, int], taker: str
) -> dict[str, int | None] | str:
    """The query's counts by name (None when not given), or what is wrong with them.

    ``least`` gives each parameter the page takes and the least value it takes; ``taker``
    names the page in the refusal of a parameter it does not take ("a proof").
    """
    twice = repeated(request.query, least)
    if twice is not None:
        return repeated_detail(twice)
    found: dict[str, int | None] = {}
    for name, lowest in least.items():
        given = request.query.get(name)
        if given is not None and not (
            given.isascii() and given.isdigit() and lowest <= int(given) <= LARGEST_COUNT
        ):
            shown = given[:20]
            return f"{name} must be a whole number from {lowest} to {LARGEST_COUNT}, not {shown!r}"
        found[name] = None if given is None else int(given)
    unknown = sorted(set(request.query) - set(least))
    if unknown:
        names = " and ".join(least)
        return f"unknown query parameter {unknown[0][:40]!r}; {taker} takes {names}"
    return found
