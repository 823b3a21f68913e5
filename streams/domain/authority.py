"""The recommending authority of a case, as dated configuration (``data/authority.toml``).

Which body recommends sanctions is a fact with dates. A case is attributed to the authority of
the period in which it was first reported, and what that authority did stays its own; but a
body acts only while it holds the role: when KASN was dissolved its pending cases went to BKN
(Law 20/2023; Perpres 91 and 92/2024), so an event dated after a transfer is the new holder's
to send (:meth:`AuthorityMap.acting_on`).
"""

from __future__ import annotations

import tomllib
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from schemas.errors import KawalError
from streams.domain.data_files import read_toml

RECOMMENDING_AUTHORITY = "recommending_authority"


class AuthorityMapError(KawalError):
    """The authority map cannot be read or has no period for a date."""


@dataclass(frozen=True)
class AuthorityPeriod:
    """From ``start`` on (inclusive), ``authority`` recommends sanctions."""

    start: date
    authority: str
    legal_source: str


class AuthorityMap:
    """Dated periods of the recommending authority, sorted by start."""

    def __init__(self, periods: list[AuthorityPeriod]) -> None:
        if not periods:
            raise AuthorityMapError("the authority map lists no period; add at least one")
        self.periods = sorted(periods, key=lambda period: period.start)
        self._starts = [period.start for period in self.periods]

    def authority_on(self, moment: date | datetime) -> str:
        """The institution id holding the recommending authority on ``moment``."""
        day = moment.date() if isinstance(moment, datetime) else moment
        index = bisect_right(self._starts, day) - 1
        if index < 0:
            raise AuthorityMapError(
                f"no recommending authority before {self._starts[0]}; the case date is earlier "
                "than every period of the authority map"
            )
        return self.periods[index].authority

    def acting_on(self, reported_at: datetime, moment: datetime) -> str:
        """The body that acts on ``moment`` for a case first reported at ``reported_at``.

        The holder of the role on the later of the two: a transfer hands a pending case over
        to the new holder, and an event dated before its case's report cannot give the case
        back to an earlier holder.
        """
        return self.authority_on(max(reported_at, moment))

    def later_holder(self, current: str, acting: str) -> str:
        """Who holds a case after an event: its ``current`` holder or the one ``acting`` on it.

        A hand-over is never undone: an event that arrives late, dated before the transfer,
        leaves the case with the holder a later event handed it to.
        """
        return max(current, acting, key=self._last_start)

    def _last_start(self, authority: str) -> date:
        starts = [period.start for period in self.periods if period.authority == authority]
        return max(starts, default=date.min)

    @property
    def authorities(self) -> frozenset[str]:
        """Every institution that holds or held the role."""
        return frozenset(period.authority for period in self.periods)


def load_authority_map(path: Path | None = None) -> AuthorityMap:
    """Read the map from ``path``, or the bundled one.

    Raises:
        AuthorityMapError: unreadable file or an entry without ``authority`` and ``from``.
    """
    try:
        entries = read_toml(path, "authority.toml").get("period", [])
        return AuthorityMap([_period(entry) for entry in entries])
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise AuthorityMapError(
            f"cannot read the authority map {path or '(bundled)'}: {exc!r}; every [[period]] "
            "needs authority, from (a date) and legal_source"
        ) from exc


def _period(entry: dict[str, object]) -> AuthorityPeriod:
    start = entry["from"]
    if not isinstance(start, date):
        raise TypeError("from must be a TOML date")
    return AuthorityPeriod(start, str(entry["authority"]), str(entry.get("legal_source", "")))
