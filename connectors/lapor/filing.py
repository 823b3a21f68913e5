"""The filing rule as the portal tells it: a report within 7 working days of its discovery.

Law 7/2017 Art. 454 (Law 10/2016 Art. 134 for regional elections): a report is filed within 7
days of the day the reporter learnt of the violation, counted in working days on the hub's
Indonesian calendar (:mod:`streams.domain.calendar`) and on Jakarta's day, as the hub counts
its clocks. The portal does not decide: a late report is still taken, since Bawaslu may take it
as information. It tells the reporter before the report is sent, and on the receipt and the
tracking page.

A year without holiday data is counted on weekends only, as the hub counts it: a report that
comes out late through such a year *may* be late (the holidays left out could bring it within
the limit), and the reporter is told exactly that; ops is warned in the log once per year.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from streams.domain.calendar import WorkingCalendar
from streams.domain.deadlines import JAKARTA

log = logging.getLogger(__name__)

#: Working days a reporter has from the day they learnt of it (Law 7/2017 Art. 454).
FILING_WORKING_DAYS = 7
#: The longest walk back for the earliest timely day: 7 working days never span more than
#: a month, even around Idul Fitri's cuti bersama.
_LOOK_BACK_DAYS = 40


class Standing(StrEnum):
    """Whether a report is within the filing rule."""

    TIMELY = "timely"
    LATE = "late"
    #: Late when counted on weekends only, through a year the calendar has no holidays of.
    MAYBE_LATE = "maybe_late"


@dataclass(frozen=True)
class Filing:
    """A report's standing under the filing rule, on the day it is filed.

    Attributes:
        discovered_on: the day the reporter learnt of it.
        filed_on: the day it is filed (Jakarta).
        working_days: working days after ``discovered_on`` up to ``filed_on``.
        uncounted_years: years of the span without holiday data (counted on weekends only).
    """

    discovered_on: date
    filed_on: date
    working_days: int
    uncounted_years: tuple[int, ...]

    @property
    def standing(self) -> Standing:
        """Timely, late, or late only if the missing holidays do not bring it within."""
        if self.working_days <= FILING_WORKING_DAYS:
            return Standing.TIMELY  # holidays left out only make the count smaller
        return Standing.MAYBE_LATE if self.uncounted_years else Standing.LATE


@dataclass(frozen=True)
class Window:
    """The days a report filed today is timely for, as the form states the rule.

    Attributes:
        earliest: the earliest day of discovery a report filed on ``today`` is timely for.
        today: the day it is in Jakarta.
        uncounted_years: years of the span without holiday data: with them, ``earliest``
            could lie further back.
    """

    earliest: date
    today: date
    uncounted_years: tuple[int, ...]


def jakarta_today(now: datetime) -> date:
    """The day it is in Jakarta at ``now`` (aware): the day the hub counts clocks on."""
    return now.astimezone(JAKARTA).date()


class FilingRule:
    """The filing rule on one calendar; warns ops once per year it cannot count in full."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar
        self._warned: set[int] = set()

    def filing(self, discovered_on: date, filed_on: date) -> Filing:
        """The standing of a report of ``discovered_on`` filed on ``filed_on``."""
        return Filing(
            discovered_on,
            filed_on,
            self.calendar.elapsed(discovered_on, filed_on),
            self._uncounted(discovered_on, filed_on),
        )

    def window(self, today: date) -> Window:
        """The earliest day of discovery a report filed ``today`` is timely for."""
        earliest = today
        for _ in range(_LOOK_BACK_DAYS):
            if self.calendar.elapsed(earliest - timedelta(days=1), today) > FILING_WORKING_DAYS:
                break
            earliest -= timedelta(days=1)
        return Window(earliest, today, self._uncounted(earliest, today))

    def _uncounted(self, first: date, last: date) -> tuple[int, ...]:
        years = tuple(
            year for year in range(first.year, last.year + 1) if not self.calendar.covers(year)
        )
        for year in set(years) - self._warned:
            self._warned.add(year)
            log.warning(
                "lapor: the calendar has no holiday data for %d: the 7-working-day filing rule "
                "is counted on weekends only and reporters are told so; add the year to the "
                "calendar overrides (KAWAL_CALENDAR_FILE) once its joint decree is out",
                year,
            )
        return years
