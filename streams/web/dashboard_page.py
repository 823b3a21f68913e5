"""HTML of the neutrality dashboard (``templates/dashboard.html``): figures, charts, definitions.

Pure functions from a dashboard view (:mod:`streams.audit.figures.view`) to markup, so the page
can be checked without a worker. The view holds counts and institution ids only; the template
escapes every value and has no script.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from streams.audit.figures.choices import UnknownFilterError
from streams.audit.figures.definitions import FIGURES, stage_labels
from streams.audit.figures.filters import Filters
from streams.audit.suppression import reasons, withheld
from streams.audit.withheld_words import WIDEN, noted, page_words, summary, widening_helps
from streams.domain.zones import provinces
from streams.web.charts import bar_chart
from streams.web.locales import Locale
from streams.web.render import templates

#: The figures drawn as charts (catatan merah is a list, not a chart).
CHART_FIGURES = ("counts", "handling_times", "violation_ratio", "follow_up")
#: Every case: the form of a request whose filters could not be used shows none.
NO_FILTERS = Filters()


def dashboard_page(
    view: dict[str, Any] | None,
    locale: Locale,
    now: datetime,
    filters: Filters = NO_FILTERS,
    error: str = "",
    names: dict[str, str] | None = None,
    public: dict[str, Any] | None = None,
    *,
    unknown: UnknownFilterError | None = None,
    elections: list[str] | None = None,
    as_of: date | None = None,
) -> str:
    """The dashboard page of ``view``, or only the filter form with ``error`` when view is None.

    Args:
        view: the figures, or None when the request's filters could not be used.
        locale: the page's language.
        now: when the figures were read, shown in the subtitle.
        filters: the filters the form shows filled in.
        error: why there are no figures, told above the form in the page's language: the
            ``field`` of a :class:`~streams.audit.figures.filters.FilterError`, or
            ``store_unavailable``.
        names: institution id -> name (the registry's), shown beside each agency's id.
        public: the public figures of the same filters, when ``view`` is a PPK's own
            (:mod:`streams.audit.figures.own_row`): the charts and the notes of withheld
            values stay the public's, only the table shows the PPK its own row.
        unknown: a filter's value the hub does not know (view is None): the page says so and
            links the known values.
        elections: the elections the form offers (the hub's cases'); None: a text field.
        as_of: with the error ``future``, the day the figures were read, which it names.
    """
    public = public if public is not None else view
    min_cases = view["suppression"]["min_cases"] if view else 0
    filtered = any(value is not None for value in filters.as_dict().values())
    if unknown is not None:
        elections = list(unknown.choices.elections)
    return templates().render(
        "dashboard.html",
        locale,
        view=view,
        public=public,
        now=now,
        filters=filters.as_dict(),
        error=error,
        as_of=as_of,
        unknown=unknown.field if unknown else "",
        known_links=known_links(unknown, filters, locale, names or {}) if unknown else [],
        elections=elections,
        provinces=sorted(provinces().values(), key=lambda province: province.code),
        query=export_query(filters),
        kept_query=export_query(filters),
        chart_query=export_query(filters, locale),
        figures=FIGURES,
        stages={stage: label[locale] for stage, label in stage_labels().items()},
        chart=bar_chart,
        names=names or {},
        home_link=True,
        hidden=withheld,
        because=reasons,
        withheld_words=page_words(locale, min_cases),
        widen_words=WIDEN[locale],
        widens=lambda codes: widening_helps(codes, filtered),
        withheld_figures=withheld_figures(public) if public else {},
    )


def known_links(
    unknown: UnknownFilterError, filters: Filters, locale: Locale, names: dict[str, str]
) -> list[tuple[str, str]]:
    """``(label, address)`` of the dashboard for each known value of the unknown filter.

    Each address keeps the other filters and the language: only the unknown value is replaced.
    """
    links = []
    for value in unknown.known:
        if unknown.field == "region":
            chosen, label = value["code"], f"{value['name']} ({value['code']})"
        else:
            chosen = value
            label = f"{names[value]} ({value})" if value in names else value
        query = export_query(replace(filters, **{unknown.field: chosen}), locale)
        links.append((label, f"/dashboard{query}"))
    return links


def withheld_figures(view: dict[str, Any]) -> dict[str, list[str]]:
    """Each figure of ``view`` with a withheld value -> the reason codes of its values.

    A value withheld without a code (a view older than the codes) gives '': the note then
    says what withheld means at all.
    """
    found = {}
    for figure in FIGURES:
        value = view[figure]
        rows = [value] if isinstance(value, dict) else value
        if any(withheld(row) for row in rows):
            found[figure] = noted(rows)
    return found


def export_query(filters: Filters, locale: Locale = "id") -> str:
    """The filters as a query string for the export links (``?election=...``), or ''.

    With ``locale`` English, ``lang=en`` too: the charts' words follow the page's language.
    """
    chosen = {key: value for key, value in filters.as_dict().items() if value is not None}
    if locale == "en":
        chosen["lang"] = "en"
    return f"?{urlencode(chosen)}" if chosen else ""


def chart_svg(
    view: dict[str, Any], figure: str, locale: Locale, names: dict[str, str] | None = None
) -> str:
    """The chart of ``figure`` (one of :data:`CHART_FIGURES`) as a standalone SVG document.

    The same chart as on the page, with its title and description, for a report or a slide;
    under it, what it is of: the figure, the filters, when the figures were read, and what a
    withheld value means when the chart has one.
    """
    value = view[figure]
    rows = [value] if isinstance(value, dict) else value
    return (
        templates()
        .render(
            "chart.svg",
            locale,
            view=view,
            figure=figure,
            stages={stage: label[locale] for stage, label in stage_labels().items()},
            chart=bar_chart,
            names=names or {},
            hidden=withheld,
            read_at=datetime.fromisoformat(view["generated_at"]),
            withheld_any=any(withheld(row) for row in rows),
            withheld_summary=summary(locale, view["suppression"]["min_cases"]),
        )
        .strip()
    )
