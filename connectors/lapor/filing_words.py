"""What a reporter is told of a late report: before sending it, on its receipt, on its page.

Plain words in Indonesian and English, the same in the form, the pages and the JSON API. None
quotes a date the reporter entered: a count of working days says it.
"""

from __future__ import annotations

from connectors.lapor.filing import FILING_WORKING_DAYS, Filing, Standing
from streams.web.locales import Locale

_MAY_NOT_REGISTER = (
    "Bawaslu mungkin tidak meregistrasinya sebagai laporan, tetapi dapat menerimanya sebagai "
    "informasi.",
    "Bawaslu may not register it as a report, though it may take it as information.",
)


def late_words(filing: Filing) -> tuple[str, str]:
    """What a reporter is told of a late report before sending it, in Indonesian and English."""
    days = filing.working_days
    maybe_id, maybe_en = "", ""
    if filing.standing is Standing.MAYBE_LATE:
        years = ", ".join(str(year) for year in filing.uncounted_years)
        maybe_id = (
            f" (dihitung tanpa hari libur tahun {years}, yang belum ada di kalender; dengan "
            "hari libur itu, laporan ini mungkin masih dalam batas waktu)"
        )
        maybe_en = (
            f" (counted without the holidays of {years}, which the calendar does not have "
            "yet; with them, this report may still be in time)"
        )
    return (
        f"Anda mengetahuinya {days} hari kerja yang lalu{maybe_id}, sedangkan laporan "
        f"disampaikan paling lambat {FILING_WORKING_DAYS} hari kerja sejak pelanggaran "
        f"diketahui. {_MAY_NOT_REGISTER[0]} Bila tetap ingin mengirimnya, centang “Tetap "
        "kirim” lalu kirim lagi.",
        f"You learnt of it {days} working days ago{maybe_en}, and a report is to be filed "
        f"within {FILING_WORKING_DAYS} working days of that. {_MAY_NOT_REGISTER[1]} To send "
        "it all the same, tick “Send it anyway” and send it again.",
    )


def sent_late_words(standing: Standing, locale: Locale) -> str | None:
    """What the receipt and the tracking page say to the reporter of a report sent late.

    None: sent in time. Addressed to the reporter ("Anda"), as the pages are.
    """
    if standing is Standing.TIMELY:
        return None
    if standing is Standing.LATE:
        indonesian = (
            f"Anda mengirim laporan ini lebih dari {FILING_WORKING_DAYS} hari kerja setelah "
            f"Anda mengetahui pelanggarannya. {_MAY_NOT_REGISTER[0]}"
        )
        english = (
            f"You sent this report over {FILING_WORKING_DAYS} working days after you learnt "
            f"of the violation. {_MAY_NOT_REGISTER[1]}"
        )
    else:
        indonesian = (
            f"Anda mungkin mengirim laporan ini lebih dari {FILING_WORKING_DAYS} hari kerja "
            "setelah Anda mengetahui pelanggarannya: hari kerjanya dihitung tanpa hari libur "
            "tahun yang belum ada di kalender. Bila terlambat, Bawaslu mungkin tidak "
            "meregistrasinya sebagai laporan, tetapi dapat menerimanya sebagai informasi."
        )
        english = (
            f"You may have sent this report over {FILING_WORKING_DAYS} working days after you "
            "learnt of the violation: its working days were counted without the holidays of a "
            "year the calendar does not have yet. If late, Bawaslu may not register it as a "
            "report, though it may take it as information."
        )
    return english if locale == "en" else indonesian
