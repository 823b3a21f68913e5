"""The Indonesian working-day calendar: the ``holidays`` package plus dated overrides.

Deadlines count working days: weekends, the national holidays and the collective leave days
(cuti bersama) of the yearly joint decree of the Ministers of Religious Affairs, Manpower and
State Apparatus (SKB 3 Menteri) are off. The ``holidays`` package (pinned in pyproject.toml)
supplies those days; the overrides file (``KAWAL_CALENDAR_FILE``, bundled as
``data/calendar.toml``) corrects it where the decree as issued differs, each correction naming
its legal source, and can declare a year the package does not cover yet.

A year is covered when the package has that year's cuti bersama (so the year's decree is in
it) or the overrides file declares the year. A year covered by neither is counted on weekends
only and everything counted through it is provisional: callers keep the result and say so.

Pure domain code: no Faust, Kafka, SQL or metrics here.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from holidays.constants import GOVERNMENT, PUBLIC
from holidays.countries.indonesia import Indonesia
from holidays.version import __version__ as holidays_version

from schemas.errors import KawalError
from streams.domain.data_files import read_toml

SATURDAY = 5
#: Holiday names as the joint decree writes them, whatever the machine's locale.
LANGUAGE = "id"
#: Where the package's days come from, as shown beside each of them.
PACKAGE_SOURCE = f"holidays {holidays_version} (Indonesia)"
#: The longest clock counted: about ten years of working days. A deadline runs for weeks; a
#: longer one is a typo, which would walk the calendar one day at a time for minutes.
MAX_WORKING_DAYS = 2_500


#: The setting that names the overrides file of the hub's processes.
CALENDAR_SETTING = "KAWAL_CALENDAR_FILE"


class CalendarError(KawalError):
    """The calendar's overrides cannot be read or do not fit the holiday data."""


class DayKind(StrEnum):
    """Why a day is not a working day."""

    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    CUTI_BERSAMA = "cuti_bersama"
    OVERRIDE = "override"


@dataclass(frozen=True)
class DayOff:
    """A day a deadline does not count, and why."""

    day: date
    kind: DayKind
    name: str
    source: str


@dataclass(frozen=True)
class Override:
    """A correction of the package: ``day`` is off (``off``) or a working day after all."""

    day: date
    off: bool
    name: str
    source: str


@dataclass(frozen=True)
class Overrides:
    """The corrections, and the years checked against their decree beyond the package."""

    days: tuple[Override, ...] = ()
    #: Year -> legal source of a year the package does not cover yet.
    years: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Count:
    """Working days counted from a start day."""

    start: date
    working_days: int
    #: The day on which the working days run out.
    last_day: date
    #: Days passed over, in order.
    skipped: tuple[DayOff, ...]
    #: Days the package has off that an override counts as working days.
    reinstated: tuple[Override, ...]
    #: Years of the span without holiday data, counted on weekends only.
    provisional_years: tuple[int, ...]

    @property
    def provisional(self) -> bool:
        """Whether a year of the span has no holiday data (the last day may come later)."""
        return bool(self.provisional_years)


class WorkingCalendar:
    """Working days from the package's holidays corrected by the overrides."""

    def __init__(self, overrides: Overrides = Overrides()) -> None:
        """Use the package's days corrected by ``overrides`` (as :func:`read_overrides` checks)."""
        self._overrides = {override.day: override for override in overrides.days}
        self._declared = dict(overrides.years)
        self._years: dict[int, dict[date, DayOff]] = {}

    def covers(self, year: int) -> bool:
        """Whether ``year`` has holiday data (else its days are counted on weekends only)."""
        return year in self._declared or package_covers(year)

    def coverage(self, year: int) -> str:
        """Where ``year``'s holiday data comes from, for people checking a deadline."""
        if year in self._declared:
            return f"{PACKAGE_SOURCE} with the overrides, checked against {self._declared[year]}"
        if package_covers(year):
            return f"{PACKAGE_SOURCE}: national holidays and cuti bersama"
        return "no holiday data: weekends only (provisional)"

    def day_off(self, day: date) -> DayOff | None:
        """Why ``day`` is not a working day, or None when it is one."""
        if day.weekday() >= SATURDAY:
            return DayOff(day, DayKind.WEEKEND, day.strftime("%A"), "")
        return self._days_off(day.year).get(day)

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day (weekends only in a year without holiday data)."""
        return day.weekday() < SATURDAY and day not in self._days_off(day.year)

    def count(self, start: date, working_days: int) -> Count:
        """Count ``working_days`` working days after ``start`` (``start`` itself not counted).

        Raises:
            CalendarError: ``working_days`` is not 0 to :data:`MAX_WORKING_DAYS`, or the count
                runs past the last day a date can hold (9999-12-31).
        """
        if not 0 <= working_days <= MAX_WORKING_DAYS:
            raise CalendarError(
                f"a count runs 0 to {MAX_WORKING_DAYS} working days, not {working_days}"
            )
        day, left = start, working_days
        skipped: list[DayOff] = []
        while left > 0:
            if day == date.max:
                raise CalendarError(
                    f"{working_days} working days after {start} run past {date.max}, the last "
                    "day the calendar can count to"
                )
            day += timedelta(days=1)
            off = self.day_off(day)
            if off is None:
                left -= 1
            else:
                skipped.append(off)
        reinstated = [o for o in self._overrides.values() if not o.off and start < o.day <= day]
        return Count(
            start=start,
            working_days=working_days,
            last_day=day,
            skipped=tuple(skipped),
            reinstated=tuple(sorted(reinstated, key=lambda override: override.day)),
            provisional_years=tuple(
                year for year in range(start.year, day.year + 1) if not self.covers(year)
            ),
        )

    def elapsed(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not later).

        The inverse of :meth:`count`: ``elapsed(s, count(s, n).last_day) == n``.
        """
        if end <= start:
            return 0
        # Weekdays by arithmetic, less the days off (all weekdays: the package's are, and an
        # override of a weekend is refused): the triage asks this for every open case, and a
        # day-by-day walk costs a year's days per old report.
        holidays = sum(
            1
            for year in range(start.year, end.year + 1)
            for day in self._days_off(year)
            if start < day <= end
        )
        return _weekdays_after(start, end) - holidays

    def _days_off(self, year: int) -> dict[date, DayOff]:
        # Built once per year: the package computes a whole year at a time.
        if year not in self._years:
            self._years[year] = self._build_year(year) if self.covers(year) else {}
        return self._years[year]

    def _build_year(self, year: int) -> dict[date, DayOff]:
        found = package_days(year)
        for override in self._overrides.values():
            if override.day.year != year:
                continue
            if override.off:
                found[override.day] = DayOff(
                    override.day, DayKind.OVERRIDE, override.name, override.source
                )
            else:
                found.pop(override.day, None)
        return found


@functools.lru_cache(maxsize=256)
def package_covers(year: int) -> bool:
    """Whether the package has ``year``'s cuti bersama, so that year's joint decree is in it.

    Its national holidays exist for any year (moon-dependent ones estimated), but the cuti
    bersama only once a decree is out: without them the year's working days are not known.
    """
    return bool(Indonesia(years=year, categories=(GOVERNMENT,)))


def package_days(year: int) -> dict[date, DayOff]:
    """The weekdays the ``holidays`` package has off in ``year`` (a new dict each call)."""
    every = Indonesia(years=year, categories=(PUBLIC, GOVERNMENT), language=LANGUAGE)
    leave = Indonesia(years=year, categories=(GOVERNMENT,), language=LANGUAGE)
    return {
        day: DayOff(
            day,
            DayKind.CUTI_BERSAMA if day in leave else DayKind.HOLIDAY,
            "; ".join(every.get_list(day)),
            PACKAGE_SOURCE,
        )
        for day in sorted(every)
        if day.weekday() < SATURDAY
    }


def load_calendar(path: Path | None = None, setting: str = CALENDAR_SETTING) -> WorkingCalendar:
    """The calendar corrected by the overrides file ``path``, or by the bundled one.

    ``setting`` names where ``path`` came from, for the message of a file that cannot be read.

    Raises:
        CalendarError: the file cannot be read or an entry does not fit; the message names
            each entry and what to fix.
    """
    return WorkingCalendar(read_overrides(path, setting))


def read_overrides(path: Path | None = None, setting: str = CALENDAR_SETTING) -> Overrides:
    """The overrides in ``path`` (the bundled ``data/calendar.toml`` if None), checked.

    Raises:
        CalendarError: as :func:`load_calendar`.
    """
    where = str(path) if path else "the bundled streams/data/calendar.toml"
    try:
        data = read_toml(path, "calendar.toml")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CalendarError(
            f"cannot read the calendar overrides {where}: {exc}; fix the TOML, or point "
            f"{setting} at a readable file"
        ) from exc
    reader = _Reader()
    overrides = reader.overrides(data)
    if reader.problems:
        listed = "".join(f"\n  - {problem}" for problem in reader.problems)
        raise CalendarError(f"the calendar overrides {where} need fixing:{listed}")
    return overrides


@dataclass
class _Reader:
    """Reads the overrides' TOML, collecting every problem so one run lists them all."""

    problems: list[str] = field(default_factory=list)

    def overrides(self, data: dict[str, Any]) -> Overrides:
        for table in sorted(set(data) - {"override", "year", "years"}):
            self.problems.append(f"[{table}] is not read: the file has [[override]] and [[year]]")
        if "years" in data:
            self.problems.append(
                "[years] lists every day off, as calendars before the holidays package did: "
                "keep only the days the decree sets differently, as [[override]] entries"
            )
        years = [self.year(label, entry) for label, entry in self.entries(data, "year")]
        days = [
            (label, self.override(label, entry)) for label, entry in self.entries(data, "override")
        ]
        self.check_unique("year", [year for year, _ in years])
        self.check_unique("override of", [override.day for _, override in days])
        declared = {year for year, _ in years}
        for label, override in days:
            self.check_fit(label, override, declared)
        return Overrides(tuple(override for _, override in days), tuple(years))

    def entries(self, data: dict[str, Any], table: str) -> list[tuple[str, dict[str, Any]]]:
        value = data.get(table, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.problems.append(f"{table} must be an array of tables: start each with [[{table}]]")
            return []
        return [(f"[[{table}]] #{n}", entry) for n, entry in enumerate(value, start=1)]

    def year(self, label: str, entry: dict[str, Any]) -> tuple[int, str]:
        self.check_keys(label, entry, {"year", "source"})
        year = entry.get("year")
        if not isinstance(year, int) or isinstance(year, bool):
            self.problems.append(f"{label}: year must be a whole number such as 2028")
            year = 0
        return year, self.text(label, entry, "source", "the joint decree (SKB 3 Menteri) of it")

    def override(self, label: str, entry: dict[str, Any]) -> Override:
        self.check_keys(label, entry, {"date", "off", "name", "source"})
        day = entry.get("date")
        if not isinstance(day, date) or isinstance(day, datetime):
            self.problems.append(f"{label}: date must be a TOML date without quotes: 2027-03-09")
            day = date.min
        off = entry.get("off")
        if not isinstance(off, bool):
            self.problems.append(
                f"{label}: off must be true (a day off the package lacks) or false (a day the "
                "package has off that is a working day)"
            )
            off = True
        name = self.text(label, entry, "name", "what the day is, as the decree calls it")
        source = self.text(label, entry, "source", "the decree that sets it, with its number")
        return Override(day, off, name, source)

    def text(self, label: str, entry: dict[str, Any], key: str, what: str) -> str:
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        self.problems.append(f"{label}: {key} must be a non-empty text: {what}")
        return ""

    def check_keys(self, label: str, entry: dict[str, Any], allowed: set[str]) -> None:
        for key in sorted(set(entry) - allowed):
            known = ", ".join(sorted(allowed))
            self.problems.append(f"{label}: unknown key {key!r}; the keys are {known}")

    def check_unique(self, what: str, values: list[Any]) -> None:
        seen: set[Any] = set()
        for value in values:
            if value in seen and value not in (0, date.min):
                self.problems.append(f"more than one {what} {value}: keep one entry")
            seen.add(value)

    def check_fit(self, label: str, override: Override, declared: set[int]) -> None:
        day = override.day
        if day == date.min:
            return  # its date is already reported
        if day.weekday() >= SATURDAY:
            self.problems.append(
                f"{label}: {day} is a {day:%A}, never a working day: remove the entry"
            )
        elif day.year not in declared and not package_covers(day.year):
            self.problems.append(
                f"{label}: {PACKAGE_SOURCE} has no cuti bersama for {day.year}: add a [[year]] "
                f"entry for {day.year} naming its decree, or remove this entry"
            )
        else:
            self.check_change(label, override)

    def check_change(self, label: str, override: Override) -> None:
        listed = package_days(override.day.year).get(override.day)
        if override.off and listed is not None:
            self.problems.append(
                f"{label}: {PACKAGE_SOURCE} already has {override.day} off ({listed.name}): "
                "remove the entry"
            )
        if not override.off and listed is None:
            self.problems.append(
                f"{label}: {PACKAGE_SOURCE} does not have {override.day} off, so it is already a "
                "working day: remove the entry (or set off = true to add a day off)"
            )


def _weekdays_after(start: date, end: date) -> int:
    """Monday-to-Friday days after ``start`` up to and including ``end`` (``end`` > ``start``)."""
    weeks, rest = divmod((end - start).days, 7)
    first = (start.weekday() + 1) % 7
    return weeks * 5 + sum(1 for offset in range(rest) if (first + offset) % 7 < SATURDAY)
