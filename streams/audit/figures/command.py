"""``kawal stats``: the front page's counts, or with filters or ``--format`` every figure.

Without a filter or ``--format``, the counts per election, region and institution
(:mod:`streams.audit.stats`), agreeing with the dashboard (:mod:`.public_views`).
"""

from __future__ import annotations

import json
from typing import Any

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.figures.choices import UnknownFilterError, choices_of
from streams.audit.figures.definitions import FIGURES
from streams.audit.figures.every_case import (
    EVERY_CASE_VIEW,
    not_followed_up_lines,
    with_every_follow_up,
)
from streams.audit.figures.export import all_csv, figure_csv, to_text
from streams.audit.figures.facts import read_facts
from streams.audit.figures.filters import FilterError, Filters, check_started
from streams.audit.figures.named import FILTER_NAMES, stats_with_names, with_names
from streams.audit.figures.public_views import front_page_stats
from streams.audit.figures.view import figures
from streams.audit.public_names import public_names
from streams.audit.stats import format_table
from streams.audit.store import AuditStore
from streams.domain.calendar import load_calendar
from streams.domain.headcounts import load_headcounts
from streams.domain.institutions import load_institutions
from streams.domain.working_time import jakarta_day
from streams.settings import Settings

#: What ``--figure F --format json`` prints beside the figure: what it is of.
SHOWN_WITH_A_FIGURE = (
    "filters", FILTER_NAMES, "generated_at", "software", "columns", "suppression", EVERY_CASE_VIEW,
)  # fmt: skip
#: Output formats of the figures.
FORMATS = ("text", "csv", "json")


def stats_view(store: AuditStore, codec: AvroCodec, *, min_cases: int) -> dict[str, Any]:
    """The front page's statistics of ``store`` (:func:`streams.audit.stats.stats_of`).

    Raises:
        StoreError: the store cannot be read.
    """
    return front_page_stats(read_facts(store, codec), min_cases)


def run_stats(settings: Settings, *, as_json: bool) -> int:
    """``kawal stats``: print the statistics of the configured audit store.

    Args:
        settings: where the audit store is.
        as_json: print JSON for scripts instead of the readable table.

    Returns:
        The exit code, 0.

    Raises:
        StoreError: no audit store at the configured URL, or it cannot be read.
    """
    store = AuditStore.open_existing(settings.audit_url)
    try:
        view = stats_view(store, AvroCodec(default_catalog()), min_cases=settings.stats_min_cases)
    finally:
        store.close()
    view = stats_with_names(view, public_names(load_institutions(settings.institutions_file)))
    print(json.dumps(view, indent=2) if as_json else "\n".join(format_table(view)))
    return 0


def run_figures(
    settings: Settings,
    filters: Filters,
    output: str,
    figure: str | None,
    *,
    unwithheld: bool = False,
) -> int:
    """Print the dashboard's figures of the configured audit store.

    Args:
        settings: where the audit store, the calendar and the headcounts are, and K.
        filters: which cases to count.
        output: one of :data:`FORMATS`.
        figure: only this figure (one of ``FIGURES``), or None for all.
        unwithheld: every PPK's follow-up figures without the small-numbers rule, with the
            ids of its recommendations pending and overdue, as a reader party to every case
            sees them (:mod:`streams.audit.figures.every_case`): the operator sees every case.

    Returns:
        The exit code, 0.

    Raises:
        FilterError: an unknown figure, a filter's value the hub does not know (an
            election no case names: :mod:`streams.audit.figures.choices`), with the known ones,
            or a range that starts after the day the store was read.
        StoreError: no audit store at the configured URL, or it cannot be read.
        CalendarError, HeadcountError: a data file needs fixing (the message says how).
    """
    if figure is not None and figure not in FIGURES:
        raise FilterError(
            f"unknown figure {figure!r}: choose one of {', '.join(FIGURES)}", "figure"
        )
    calendar = load_calendar(settings.calendar_file)
    headcounts = load_headcounts(settings.headcounts_file)
    store = AuditStore.open_existing(settings.audit_url)
    try:
        codec = AvroCodec(default_catalog())
        projection = read_facts(store, codec)
    finally:
        store.close()
    institutions = load_institutions(settings.institutions_file)
    ppks = frozenset(found.id for found in institutions if found.role == "ppk")
    check_started(filters, jakarta_day(projection.read_at))
    try:
        choices_of(projection, ppks).check(filters)
    except UnknownFilterError as exc:
        raise FilterError(exc.listed(), exc.field) from exc
    view = figures(projection, calendar, headcounts, filters, min_cases=settings.stats_min_cases)
    if unwithheld:
        view = with_every_follow_up(view, projection, filters)
    view = with_names(view, public_names(institutions))
    print(_render(view, output, figure), end="")
    return 0


def _render(view: dict[str, Any], output: str, figure: str | None) -> str:
    if output == "json":
        chosen = (
            {key: view[key] for key in (*SHOWN_WITH_A_FIGURE, figure) if key in view}
            if figure
            else view
        )
        return json.dumps(chosen, indent=2, ensure_ascii=False) + "\n"
    if output == "csv":
        return figure_csv(view, figure) if figure else all_csv(view)
    lines = to_text(view, figure)
    if EVERY_CASE_VIEW in view and figure in (None, "follow_up"):
        lines += ["", view[EVERY_CASE_VIEW]["note"]["en"], *not_followed_up_lines(view)]
    return "\n".join(lines) + "\n"
