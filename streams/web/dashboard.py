"""``/dashboard``: the neutrality dashboard's page and its JSON and CSV exports.

- ``GET /dashboard``: the page (Indonesian, English with ``?lang=en``);
- ``GET /dashboard/figures.json``: every figure with its definitions;
- ``GET /dashboard/figures.csv``: every figure, each after a ``# figure`` line;
- ``GET /dashboard/{figure}.csv``: one figure (``counts``, ``handling_times``, ...), whose
  ``Link`` header names its metadata document;
- ``GET /dashboard/{figure}.csv-metadata.json``: that CSV's W3C CSVW metadata: the software
  version, when the store was read, each column's definition, the withholding rule
  (:mod:`streams.audit.figures.metadata`);
- ``GET /dashboard/{figure}.svg``: the chart of a figure, as on the page.

Each takes the filters ``election``, ``region``, ``agency``, ``from`` and ``to`` as query
parameters; a filter that cannot be used is a 400 that says what to give, and a value the hub
does not know (an election no case names) a 404 listing the known ones
(:mod:`streams.audit.figures.choices`), never zeros. The dashboard is
public: counts and institution ids only, never a case id or personal data, and no value from
fewer than K cases (:mod:`streams.audit.figures.small_groups`); like every view, a
request that sends a credential must send a good one. The figures are read from the audit
store again only when it has grown (:mod:`streams.audit.figures.cache`), and each filter set's
figures and page are made once per read (:mod:`streams.web.figure_cache`).

Read with a PPK's credential, the page and ``figures.json`` show that PPK its own row of the
follow-up rate unwithheld, marked as visible to it alone
(:mod:`streams.audit.figures.own_row`). Read by an operator or an institution party to every
case (BKN, the appeals body, Bawaslu RI), the page, ``figures.json`` and the CSVs show every
PPK's follow-up figures unwithheld, with the cases not followed up
(:mod:`streams.audit.figures.every_case`). Every other reader, and the SVG charts, get the
public view.

Every export names each agency and filtered region beside its code
(:mod:`streams.audit.figures.named`), says when the store was read, the filters applied and
the software version, inside the file or its metadata document, and carries an ETag and
Last-Modified of that read (:mod:`streams.web.citable`); a range that starts after the day the
store was read is a 400, not zeros.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import faust
from faust import web

from streams.audit.figures.cache import ProjectionCache
from streams.audit.figures.choices import UnknownFilterError, choices_of
from streams.audit.figures.definitions import FIGURES
from streams.audit.figures.every_case import EVERY_CASE_READER, EVERY_CASE_VIEW, reader_view
from streams.audit.figures.export import all_csv, export_file_name, figure_csv
from streams.audit.figures.facts import Projection
from streams.audit.figures.filters import FilterError, Filters, check_started, parse_filters
from streams.audit.figures.metadata import CSVW_CONTENT_TYPE, METADATA_SUFFIX, csv_metadata
from streams.audit.figures.named import with_names
from streams.audit.figures.view import figures as compute_figures
from streams.audit.public_names import PublicNames
from streams.audit.store import StoreError
from streams.domain.calendar import WorkingCalendar
from streams.domain.headcounts import Headcount
from streams.domain.principals import AccessRefusal, Principal, PrincipalRole
from streams.domain.working_time import jakarta_day
from streams.web.auth import Authenticator
from streams.web.citable import BOM, validated
from streams.web.dashboard_page import CHART_FIGURES, chart_svg, dashboard_page
from streams.web.figure_cache import FigureCache
from streams.web.locales import Locale, negotiate
from streams.web.problems import problem_response
from streams.web.query import repeated, repeated_detail

CSV_CONTENT_TYPE = "text/csv"
SVG_CONTENT_TYPE = "image/svg+xml"
#: Query parameters read as filters.
FILTER_PARAMETERS = ("election", "region", "agency", "from", "to")
UNKNOWN_PARAMETER = (
    "a query parameter is none of the filters: give only election, region, agency, from and "
    "to (a day range: there is no year filter), and lang (id or en) for the words of the "
    "page and the charts"
)
#: The reason code of a filter's value the hub does not know.
UNKNOWN_VALUE = "unknown_filter_value"
STORE_DOWN = "the audit store cannot be read now; try again later"


@dataclass(frozen=True)
class DashboardSources:
    """What the dashboard reads: the trail's projection, the calendar, the headcounts."""

    trail: ProjectionCache
    calendar: WorkingCalendar
    headcounts: dict[str, Headcount]
    auth: Authenticator
    #: Institution id -> name, shown beside the agencies' ids on the page.
    names: dict[str, str]
    #: K: no value is published from fewer cases (KAWAL_STATS_MIN_CASES).
    min_cases: int
    #: The registered PPKs: each sees its own row of the follow-up rate unwithheld.
    ppks: frozenset[str] = frozenset()
    #: The registered institutions party to every case: they, and operators, see every PPK's
    #: follow-up figures unwithheld.
    every_case: frozenset[str] = frozenset()
    #: The names of agencies and regions every export shows beside their codes.
    public_names: PublicNames = field(default_factory=PublicNames)

    def figures(self, projection: Projection, filters: Filters) -> dict[str, Any]:
        """The figures of ``projection`` for ``filters`` (blocking: call it in a thread).

        ``choices`` in the result lists the elections the election filter knows.

        Raises:
            FilterError: the range starts after the day the store was read.
            UnknownFilterError: a filter names an election, province or agency the hub does
                not know.
        """
        check_started(filters, jakarta_day(projection.read_at))
        choices = choices_of(projection, self.ppks)
        choices.check(filters)
        view = compute_figures(
            projection, self.calendar, self.headcounts, filters, min_cases=self.min_cases
        )
        return view | {"choices": {"election": list(choices.elections)}}

    def reader_of(self, principal: Principal | None) -> str | None:
        """Whose view ``principal`` gets: None (public), a PPK's id, or every case's reader.

        A PPK sees its own row (:mod:`streams.audit.figures.own_row`); an operator or an
        institution party to every case, :data:`EVERY_CASE_READER`, every PPK's row.
        """
        if principal is None:
            return None
        institution = principal.institution
        if principal.role is PrincipalRole.OPERATOR or institution in self.every_case:
            return EVERY_CASE_READER
        return institution if institution in self.ppks else None


def register_dashboard(app: faust.App, sources: DashboardSources) -> None:
    """Attach the dashboard's page and exports to the worker's app."""
    cache = FigureCache(sources.trail.projection, sources.figures, audience=reader_view)

    @app.page("/dashboard", name="kawal-dashboard")
    class DashboardPage(web.View):
        """The figures with charts and definitions."""

        async def get(self, request: web.Request) -> web.Response:
            principal = await sources.auth.principal(request)
            if isinstance(principal, AccessRefusal):
                return sources.auth.refuse(self, request, principal)
            locale = negotiate(request.query.get("lang"), request.headers.get("Accept-Language"))
            now = datetime.now(UTC)
            try:
                filters = _filters(request)
            except FilterError as exc:
                return self.html(dashboard_page(None, locale, now, error=exc.field), status=400)
            try:
                page = await cache.page(
                    filters,
                    locale,
                    lambda view, public: _page(view, public, locale, filters, sources.names),
                    sources.reader_of(principal),
                )
            except FilterError as exc:
                page = dashboard_page(None, locale, now, filters, error=exc.field, as_of=exc.as_of)
                return self.html(page, status=400)
            except UnknownFilterError as exc:
                page = dashboard_page(None, locale, now, filters, unknown=exc, names=sources.names)
                return self.html(page, status=404)
            except StoreError:
                page = dashboard_page(None, locale, now, filters, error="store_unavailable")
                return self.html(page, status=503)
            return self.html(page)

    @app.page("/dashboard/figures.json", name="kawal-dashboard-json")
    class DashboardJson(web.View):
        """Every figure as JSON."""

        async def get(self, request: web.Request) -> web.Response:
            found = await _view(self, request, sources, cache, own_row=True, every_case=True)
            if not isinstance(found, dict):
                return found
            # A PPK's own row, or figures unwithheld, are for their reader alone: no cache
            # keeps them.
            public = "own_row" not in found and EVERY_CASE_VIEW not in found
            return validated(self, request, self.json(found), _read_at(found), cacheable=public)

    @app.page("/dashboard/{figure}.csv", name="kawal-dashboard-csv")
    class DashboardCsv(web.View):
        """One figure, or every figure (``figures.csv``), as CSV."""

        async def get(self, request: web.Request, figure: str) -> web.Response:
            if figure != "figures" and figure not in FIGURES:
                known = ", ".join(("figures", *FIGURES))
                detail = f"no such figure; choose one of {known}"
                return problem_response(self, 404, "no_such_figure", detail)
            found = await _view(self, request, sources, cache, every_case=True)
            if not isinstance(found, dict):
                return found
            body = all_csv(found) if figure == "figures" else figure_csv(found, figure)
            name = export_file_name(found, figure)
            if EVERY_CASE_VIEW in found:  # saved, it still says it is not for publication
                name = name.replace("kawal-", "kawal-unwithheld-", 1)
            headers = {"Content-Disposition": f'attachment; filename="{name}"'}
            if figure != "figures":  # figures.csv describes itself in its about table
                headers["Link"] = _described_by(figure, request)
            # aiohttp refuses a charset inside content_type and adds utf-8 to text itself.
            response = self.text(BOM + body, content_type=CSV_CONTENT_TYPE, headers=headers)
            public = EVERY_CASE_VIEW not in found
            return validated(self, request, response, _read_at(found), cacheable=public)

    @app.page("/dashboard/{figure}.csv" + METADATA_SUFFIX, name="kawal-dashboard-csv-metadata")
    class DashboardCsvMetadata(web.View):
        """A figure's CSV described in the W3C CSVW vocabulary: columns, version, rule."""

        async def get(self, request: web.Request, figure: str) -> web.Response:
            if figure not in FIGURES:
                known = ", ".join(FIGURES)
                detail = f"no such figure; choose one of {known}"
                return problem_response(self, 404, "no_such_figure", detail)
            found = await _view(self, request, sources, cache, every_case=True)
            if not isinstance(found, dict):
                return found
            document = csv_metadata(found, figure, _csv_url(figure, request))
            response = self.json(document, content_type=CSVW_CONTENT_TYPE)
            public = EVERY_CASE_VIEW not in found
            return validated(self, request, response, _read_at(found), cacheable=public)

    @app.page("/dashboard/{figure}.svg", name="kawal-dashboard-svg")
    class DashboardSvg(web.View):
        """The chart of one figure, as a standalone SVG document."""

        async def get(self, request: web.Request, figure: str) -> web.Response:
            if figure not in CHART_FIGURES:
                known = ", ".join(CHART_FIGURES)
                detail = f"no chart of that name; choose one of {known}"
                return problem_response(self, 404, "no_such_chart", detail)
            found = await _view(self, request, sources, cache)
            if not isinstance(found, dict):
                return found
            locale = negotiate(request.query.get("lang"), request.headers.get("Accept-Language"))
            svg = chart_svg(found, figure, locale, sources.names)
            # Without ?lang, the words follow Accept-Language.
            vary = {"Vary": "Accept-Language"}
            response = self.text(svg, content_type=SVG_CONTENT_TYPE, headers=vary)
            return validated(self, request, response, _read_at(found), cacheable=True)


def _csv_url(figure: str, request: web.Request, suffix: str = "") -> str:
    """``figure``'s CSV (or, with ``suffix``, its metadata) of the request's filters.

    Relative to the dashboard's exports, with the query encoded again: an election id is free
    text, and a raw ``>`` or space would end the address in a ``Link`` header.
    """
    query = urlencode(list(request.query.items()))
    return f"{figure}.csv{suffix}" + (f"?{query}" if query else "")


def _described_by(figure: str, request: web.Request) -> str:
    """The ``Link`` header naming a figure's CSVW metadata (RFC 8288; CSVW 5.2)."""
    target = _csv_url(figure, request, METADATA_SUFFIX)
    return f'<{target}>; rel="describedby"; type="{CSVW_CONTENT_TYPE}"'


def _read_at(view: dict[str, Any]) -> datetime:
    """When the store behind ``view`` was read: the as-of instant of its figures."""
    return datetime.fromisoformat(view["generated_at"])


def _page(
    view: dict[str, Any],
    public: dict[str, Any],
    locale: Locale,
    filters: Filters,
    names: dict[str, str],
) -> str:
    # The page says when the figures were read, not when it was asked for.
    return dashboard_page(
        view,
        locale,
        _read_at(view),
        filters,
        names=names,
        public=public,
        elections=view["choices"]["election"],
    )


async def _view(
    view: web.View,
    request: web.Request,
    sources: DashboardSources,
    cache: FigureCache,
    *,
    own_row: bool = False,
    every_case: bool = False,
) -> dict[str, Any] | web.Response:
    """The figures the request asks for, or the response refusing it.

    With ``own_row``, a PPK's credential gets its own row of the follow-up rate unwithheld;
    with ``every_case``, an operator or an institution party to every case gets every PPK's.
    """
    principal = await sources.auth.principal(request)
    if isinstance(principal, AccessRefusal):
        return sources.auth.refuse(view, request, principal)
    try:
        filters = _filters(request)
    except FilterError as exc:
        return problem_response(view, 400, "invalid_filter", str(exc))
    reader = sources.reader_of(principal)
    if not (every_case if reader == EVERY_CASE_READER else own_row):
        reader = None
    try:
        return with_names(await cache.figures(filters, reader), sources.public_names)
    except FilterError as exc:
        return problem_response(view, 400, "range_after_as_of", str(exc))
    except UnknownFilterError as exc:
        members = {"field": exc.field, "known": exc.known}
        return problem_response(view, 404, UNKNOWN_VALUE, str(exc), members=members)
    except StoreError:
        return problem_response(view, 503, "store_unavailable", STORE_DOWN)


def _filters(request: web.Request) -> Filters:
    """The request's filters.

    Raises:
        FilterError: a value cannot be used, or a parameter is none of the filters: left
            unread, a misspelt ``elction`` or a ``year`` would give the figures of every case
            as if they were filtered.
    """
    if set(request.query) - set(FILTER_PARAMETERS) - {"lang"}:
        raise FilterError(UNKNOWN_PARAMETER, "parameter")
    twice = repeated(request.query, FILTER_PARAMETERS)
    if twice is not None:
        raise FilterError(repeated_detail(twice), "repeated")
    return parse_filters({name: request.query.get(name) for name in FILTER_PARAMETERS})
