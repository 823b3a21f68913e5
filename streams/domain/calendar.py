"""The Indonesian working-day calendar, as data (``data/calendar.toml``).

Deadlines count working days: weekends and the national holidays and collective leave days
of the yearly joint decree are off.
"""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

from schemas.errors import KawalError

SATURDAY = 5


class CalendarError(KawalError):
    """The calendar cannot be read, or a date lies outside the years it covers."""


class WorkingCalendar:
    """Working days of the years the holiday data covers."""

    def __init__(self, holidays: dict[int, frozenset[date]]) -> None:
        self._holidays = holidays

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day.

        Raises:
            CalendarError: the calendar has no holiday data for ``day``'s year.
        """
        if day.year not in self._holidays:
            raise CalendarError(
                f"the working-day calendar has no holidays for {day.year}; add that year's "
                "joint-decree holidays to the calendar file"
            )
        return day.weekday() < SATURDAY and day not in self._holidays[day.year]

    def add_working_days(self, start: date, days: int) -> date:
        """The day on which ``days`` working days after ``start`` have run out."""
        day, left = start, days
        while left > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day


def load_calendar(path: Path | None = None) -> WorkingCalendar:
    """Read the calendar from ``path``, or the bundled one.

    Raises:
        CalendarError: unreadable file or a year without a list of dates.
    """
    try:
        if path is None:
            text = resources.files("streams").joinpath("data/calendar.toml").read_text()
        else:
            text = path.read_text(encoding="utf-8")
        years = tomllib.loads(text)["years"]
        return WorkingCalendar({int(year): frozenset(days) for year, days in years.items()})
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CalendarError(
            f"cannot read the working-day calendar {path or '(bundled)'}: {exc!r}; it needs a "
            "[years] table of year = [dates]"
        ) from exc
