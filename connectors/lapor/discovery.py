"""The day the reporter learnt of it: checked, and the filing rule told before sending.

The report's ``discovered_on`` (the field the hub's ``ReportReceived`` carries) is the day the
reporter learnt of the violation, not the day it happened: the filing rule counts from it
(:mod:`connectors.lapor.filing`). A report over the limit is refused until it is sent with
``late_ok``: the reporter learns before sending that Bawaslu may not register it.
"""

from __future__ import annotations

from datetime import date

from connectors.lapor.field_reader import FieldReader
from connectors.lapor.filing import Filing, Standing
from connectors.lapor.filing_words import late_words
from schemas.field_formats import calendar_day

#: Reports of days longer ago are refused: two election cycles, past any case still handled.
OLDEST_REPORT_YEARS = 10


def refuse_happened_on(reader: FieldReader) -> None:
    """Refuse ``happened_on``: read as the day of discovery, it could date a report wrongly.

    Earlier versions of the portal took it and sent it on as the day of discovery; the report
    has no field for the day it happened, which belongs in the summary.
    """
    if reader.raw.get("happened_on") not in (None, ""):
        reader.fail(
            "happened_on",
            "renamed",
            "happened_on tidak dipakai lagi: kirim discovered_on, tanggal Anda mengetahui "
            "pelanggaran itu, dan tulis kapan kejadiannya di summary.",
            "happened_on is no longer taken: send discovered_on, the day you learnt of the "
            "violation, and write when it happened in summary.",
        )


def check_late(reader: FieldReader, filing: Filing) -> None:
    """Refuse a late report not sent with ``late_ok``: the reporter is told before sending.

    Bawaslu, not the portal, decides on a late report: sent with ``late_ok`` it is taken.
    """
    confirmed = reader.flag("late_ok", default=False)
    if any(problem.field == "discovered_on" for problem in reader.problems):
        return  # no day to count from
    if filing.standing is not Standing.TIMELY and not confirmed:
        reader.fail("discovered_on", "late", *late_words(filing))


def discovery_day(reader: FieldReader, today: date) -> date:
    """The ``discovered_on`` day: a date, not after ``today`` nor over ten years before it."""
    value = reader.text("discovered_on")
    if not value:
        return today
    day = calendar_day(value)
    if day is None:
        reader.fail(
            "discovered_on",
            "invalid",
            "Tulis tanggal seperti 2024-11-04.",
            "Give a date such as 2024-11-04.",
        )
        return today
    if day > today:
        reader.fail(
            "discovered_on",
            "in_future",
            "Tanggal Anda mengetahuinya tidak boleh di masa depan: periksa tanggalnya.",
            "The day you learnt of it cannot be in the future: check the date.",
        )
    elif day < _earliest_day(today):
        reader.fail(
            "discovered_on",
            "too_long_ago",
            f"Tanggal itu lebih dari {OLDEST_REPORT_YEARS} tahun lalu; periksa tahunnya.",
            f"That day is over {OLDEST_REPORT_YEARS} years ago; check the year.",
        )
    return day


def _earliest_day(today: date) -> date:
    """The first day a report may be of: a mistyped year (0204 for 2024) is refused."""
    try:
        return today.replace(year=today.year - OLDEST_REPORT_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year - OLDEST_REPORT_YEARS, day=28)
