"""The dashboard's figures as CSV and as readable text, one table per figure.

Every figure becomes rows of the same columns: ``counts`` one row, the others one row per stage
or agency. CSV cells hold the JSON values (empty for None), so a spreadsheet reads the same
numbers as the JSON export; a value withheld by the suppression rule
(:mod:`streams.audit.figures.small_groups`) is :data:`WITHHELD_CELL`, and the row's
:data:`BECAUSE_COLUMN` says why (:func:`streams.audit.withheld_words.listed`). A text cell a
spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) is written with a leading apostrophe
(``defusedcsv``): agency ids come from the senders.

A figure's own CSV (:func:`figure_csv`) is self-describing in a form every CSV reader parses:
each row ends with :data:`ABOUT_COLUMNS`, when the store was read and the filters applied, so a
row copied on keeps what it is of. A comment line would be read as a row by spreadsheets and
break readers that take the first line as the header.
"""

from __future__ import annotations

import io
import re
import textwrap
from datetime import datetime
from typing import Any

from defusedcsv import csv

from streams.audit.figures.definitions import FIGURES
from streams.audit.figures.named import AGENCY_FIGURES, AGENCY_NAME, FILTER_NAMES
from streams.audit.public_names import UNKNOWN
from streams.audit.suppression import withheld
from streams.audit.withheld_words import legend, listed, withheld_lines
from streams.domain.working_time import jakarta_day

#: A withheld value in CSV and text: fewer than K cases (the JSON has None and ``withheld``).
WITHHELD_CELL = "withheld"
#: The column saying why a row's withheld cells are withheld (``followed_up=complementary``).
BECAUSE_COLUMN = "withheld_because"
#: Where the figures come from, as the CSV's ``# about`` table says.
SOURCE = (
    "Kawal neutrality dashboard: projections of the verified, hash-chained case trails the "
    "institutions send (no personal data)"
)

#: Columns a figure's own CSV adds to each of its rows: the read's instant and the filters.
ABOUT_COLUMNS = (
    "generated_at", "filter_election", "filter_region", "filter_agency", "filter_from",
    "filter_to",
)  # fmt: skip
#: Columns naming the codes of a figure's own CSV, after :data:`ABOUT_COLUMNS`: last, so that a
#: reader of the columns by position before they came keeps reading the same ones.
FILTER_NAME_COLUMNS = ("filter_region_name", "filter_agency_name")

#: Columns of each figure's rows, in display order.
COLUMNS: dict[str, tuple[str, ...]] = {
    "counts": ("received", "proven", "recommended", "followed_up", "sanctioned"),
    "handling_times": (
        "stage", "from", "to", "cases", "median_working_days", "p90_working_days", "provisional",
    ),
    "violation_ratio": (
        "agency", "reported", "proven", "civil_servants", "proven_per_1000",
        "headcount_as_of", "headcount_source",
    ),
    "follow_up": (
        "agency", "recommended", "followed_up", "not_followed_up", "pending", "overdue",
        "closed_without_follow_up", "follow_up_rate",
    ),
    "catatan_merah": ("agency", "proven", "first_proven_on", "last_proven_on"),
}  # fmt: skip


def _rows(view: dict[str, Any], figure: str) -> list[dict[str, Any]]:
    value = view[figure]
    return [value] if isinstance(value, dict) else list(value)


def figure_rows(view: dict[str, Any], figure: str) -> list[dict[str, Any]]:
    """The rows of ``figure`` in ``view`` (a dashboard view), each with :data:`COLUMNS` keys.

    A withheld value is :data:`WITHHELD_CELL`.
    """
    value = view[figure]
    rows: list[dict[str, Any]] = [value] if isinstance(value, dict) else value
    return [
        {
            column: WITHHELD_CELL if column in withheld(row) else row[column]
            for column in COLUMNS[figure]
        }
        for row in rows
    ]


def to_csv(
    view: dict[str, Any],
    figure: str,
    about: dict[str, str] | None = None,
    tail: dict[str, str] | None = None,
) -> str:
    """``figure`` as CSV with a header row (RFC 4180 line ends), ``about`` ending each row.

    An agency figure's rows go on with :data:`~streams.audit.figures.named.AGENCY_NAME` (the
    registry's name, or "unknown agency"), then ``tail``: columns added later come last, so
    that a reader of the columns by position keeps reading the same ones.
    """
    about = about or {}
    tail = tail or {}
    out = io.StringIO()
    named = figure in AGENCY_FIGURES
    fieldnames = [
        *COLUMNS[figure], BECAUSE_COLUMN, *about, *([AGENCY_NAME] if named else []), *tail,
    ]  # fmt: skip
    writer = csv.DictWriter(out, fieldnames=fieldnames, lineterminator="\r\n")
    writer.writeheader()
    for row, source in zip(figure_rows(view, figure), _rows(view, figure), strict=True):
        cells = {column: "" if value is None else value for column, value in row.items()}
        name = {AGENCY_NAME: agency_name_cell(source)} if named else {}
        writer.writerow(cells | {BECAUSE_COLUMN: listed(source)} | about | name | tail)
    return out.getvalue()


def agency_name_cell(row: dict[str, Any]) -> str:
    """An agency row's name in CSV: the registry's, or "unknown agency".

    Empty for a row withheld whole without its agency's id, and for a row never looked up
    (:func:`~streams.audit.figures.named.with_names` not applied): unknown is a finding.
    """
    if row.get("agency") is None or AGENCY_NAME not in row:
        return ""
    return row[AGENCY_NAME] or UNKNOWN["agency"]["en"]


def csv_columns(figure: str) -> list[str]:
    """The columns of ``figure``'s own CSV (:func:`figure_csv`), in their order."""
    named = [AGENCY_NAME] if figure in AGENCY_FIGURES else []
    return [*COLUMNS[figure], BECAUSE_COLUMN, *ABOUT_COLUMNS, *named, *FILTER_NAME_COLUMNS]


def figure_csv(view: dict[str, Any], figure: str) -> str:
    """``figure`` as its own CSV: its rows, each ending with :data:`ABOUT_COLUMNS`.

    Then an agency figure's name column and :data:`FILTER_NAME_COLUMNS` (:func:`csv_columns`).
    A figure without rows (no agency in catatan merah) is its header alone: its as-of is then
    in the JSON export, the file's name and the answer's ``Last-Modified``.
    """
    filters = view["filters"]
    about = {"generated_at": view["generated_at"]} | {
        f"filter_{key}": "" if value is None else str(value) for key, value in filters.items()
    }
    return to_csv(view, figure, about, filter_name_cells(view))


def filter_name_cells(view: dict[str, Any]) -> dict[str, str]:
    """The names of the region and agency filtered on, as CSV cells.

    Empty where not filtered, or in a view whose names were never looked up.
    """
    filters, names = view["filters"], view.get(FILTER_NAMES)
    return {
        f"filter_{kind}_name": (names[kind] or UNKNOWN[kind]["en"])
        if filters[kind] and names is not None
        else ""
        for kind in ("region", "agency")
    }


def all_csv(view: dict[str, Any]) -> str:
    """Every figure as CSV, each after a ``# figure`` line and separated by a blank line.

    The last table, ``# about``, says what the figures are of (``about_rows``): a file passed
    on keeps its filters, when it was read, the definitions and what withheld means.
    """
    tables = [f"# {figure}\r\n{to_csv(view, figure)}" for figure in FIGURES]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("about", "value"))
    writer.writerows(about_rows(view))
    return "\r\n".join([*tables, f"# about\r\n{out.getvalue()}"])


def about_rows(view: dict[str, Any]) -> list[tuple[str, str]]:
    """What the figures of ``view`` are of, in English, as (about, value) rows."""
    filters = view["filters"]
    rows = [
        ("source", SOURCE),
        ("software", f"{view['software']['name']} {view['software']['version']}"),
        ("generated_at", view["generated_at"]),
        *((f"filter_{key}", "" if value is None else value) for key, value in filters.items()),
        *filter_name_cells(view).items(),
        ("min_cases", str(view["suppression"]["min_cases"])),
        (WITHHELD_CELL, view["suppression"]["reason"]["en"]),
        *(
            (f"{BECAUSE_COLUMN}={code}", words["en"])
            for code, words in view["suppression"].get("reasons", {}).items()
        ),
    ]
    rows += [
        (f"definition_{figure}", view["definitions"][figure]["definition"]["en"])
        for figure in FIGURES
    ]
    rows += [(f"column_{column}", words["en"]) for column, words in view["columns"].items()]
    return rows


def export_file_name(view: dict[str, Any], figure: str) -> str:
    """The download's file name: the figure, the filters chosen and the day it was read.

    Two downloads of other filters or days do not overwrite each other, and the name still
    tells what the file holds once saved. The day is the Jakarta day (WIB), as the page's "as
    of" and every day of the figures: a read at 03:20 WIB is named after that day, not after
    the UTC day before. A character a file name should not hold becomes ``_`` (an election id
    is free text).
    """
    chosen = [f"{key}-{value}" for key, value in view["filters"].items() if value is not None]
    day = jakarta_day(datetime.fromisoformat(view["generated_at"])).isoformat()
    name = "-".join(["kawal", figure, *chosen, day])
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) + ".csv"


def to_text(view: dict[str, Any], only: str | None = None) -> list[str]:
    """Every figure (or ``only`` one) as an aligned text table under its title and definition."""
    shown = (only,) if only else FIGURES
    chosen = {key: value for key, value in view["filters"].items() if value is not None}
    lines = ["filters: " + (", ".join(f"{k}={v}" for k, v in chosen.items()) or "none"), ""]
    for figure in shown:
        lines.append(view["definitions"][figure]["title"]["en"])
        definition = view["definitions"][figure]["definition"]["en"]
        lines += textwrap.wrap(definition, width=100, initial_indent="  ", subsequent_indent="  ")
        lines += _table(*_text_table(view, figure))
        lines += withheld_lines(_rows(view, figure), "agency" if figure != "counts" else "")
        lines.append("")
    if view["skipped_entries"]:
        lines.append(f"{view['skipped_entries']} undecodable entries left out")
    return lines + legend(
        [row for f in shown for row in _rows(view, f)], view["suppression"]["min_cases"]
    )


def _text_table(view: dict[str, Any], figure: str) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    """A figure's text columns and rows: an agency figure's with the agency's name last."""
    rows = figure_rows(view, figure)
    if figure not in AGENCY_FIGURES:
        return COLUMNS[figure], rows
    names = [agency_name_cell(row) for row in _rows(view, figure)]
    named = [row | {AGENCY_NAME: name} for row, name in zip(rows, names, strict=True)]
    return (*COLUMNS[figure], AGENCY_NAME), named


def _table(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["  (none)"]
    cells = [[_cell(row[column]) for column in columns] for row in rows]
    widths = [
        max(len(column), *(len(line[n]) for line in cells)) for n, column in enumerate(columns)
    ]
    # Numbers to the right, so their digits line up; words to the left.
    numeric = [
        all(
            isinstance(row[column], int | float | None) or row[column] == WITHHELD_CELL
            for row in rows
        )
        for column in columns
    ]
    lines = [
        "  " + "  ".join(_align(column, widths[n], numeric[n]) for n, column in enumerate(columns))
    ]
    for line in cells:
        lines.append(
            "  " + "  ".join(_align(cell, widths[n], numeric[n]) for n, cell in enumerate(line))
        )
    return [line.rstrip() for line in lines]


def _align(text: str, width: int, right: bool) -> str:
    return text.rjust(width) if right else text.ljust(width)


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)
