"""HTML of the neutrality dashboard (``templates/dashboard.html``): figures, charts, definitions.

Pure functions from a dashboard view (:mod:`streams.audit.figures.view`) to markup, so the page
can be checked without a worker. The view holds counts and institution ids only; the template
escapes every value and has no script.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from streams.audit.figures.definitions import FIGURES, stage_labels
from streams.audit.figures.filters import Filters
from streams.web.charts import bar_chart
from streams.web.locales import Locale
from streams.web.render import templates

#: Every case: the form of a request whose filters could not be used shows none.
NO_FILTERS = Filters()


def dashboard_page(
    view: dict[str, Any] | None,
    locale: Locale,
    now: datetime,
    filters: Filters = NO_FILTERS,
    error: str = "",
    names: dict[str, str] | None = None,
) -> str:
    """The dashboard page of ``view``, or only the filter form with ``error`` when view is None.

    Args:
        view: the figures, or None when the request's filters could not be used.
        locale: the page's language.
        now: when the figures were read, shown in the subtitle.
        filters: the filters the form shows filled in.
        error: why the filters could not be used (shown above the form).
        names: institution id -> name (the registry's), shown beside each agency's id.
    """
    return templates().render(
        "dashboard.html",
        locale,
        view=view,
        now=now,
        filters=filters.as_dict(),
        error=error,
        query=export_query(filters),
        figures=FIGURES,
        stages={stage: label[locale] for stage, label in stage_labels().items()},
        chart=bar_chart,
        names=names or {},
        home_link=True,
    )


def export_query(filters: Filters) -> str:
    """The filters as a query string for the export links (``?election=...``), or ''."""
    chosen = {key: value for key, value in filters.as_dict().items() if value is not None}
    return f"?{urlencode(chosen)}" if chosen else ""
