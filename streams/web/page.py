"""The hub's read-only web page, served by the worker's Faust web server.

``GET /`` shows the cases with their lifecycle phase and deadline clocks, the public statistics
(:mod:`streams.audit.stats`), throughput per pipeline stage and rejects by reason; ``GET
/cases/{case_id}`` shows one case's verified timeline. Markup is in :mod:`streams.web.render`.

Phases and clocks come from the worker's case table, so with several workers each
page shows the phases of the partitions its worker holds (other cases read "not on this
worker"); the case list, the statistics and the timelines come from the shared audit store.
Throughput and rejects are this worker's counters since it started.

The page never shows personal data. Its statistics are public; its cases are shown to their
parties and to operators, to everyone only where KAWAL_PUBLIC_CASES says so
(:mod:`streams.web.case_audience`). A request that sends a credential must still send a good one
(:mod:`streams.web.auth`), like on every other view.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import faust
from faust import web
from prometheus_client import Counter

from monitoring.metrics import HubMetrics
from schemas.identity import canonical_case_id
from streams.audit.figures.cache import ProjectionCache
from streams.audit.figures.public_views import front_page_stats
from streams.audit.store import CaseSummary, StoreError
from streams.domain.calendar import WorkingCalendar
from streams.domain.deadlines import overdue, waiting
from streams.domain.lifecycle import CaseLifecycle
from streams.domain.parties import CaseParties, parties_of_case
from streams.domain.principals import AccessRefusal
from streams.domain.working_time import working_days_left
from streams.hub.case_store import case_ids, read_value
from streams.hub.case_table import lifecycle_of
from streams.vault.data_keys import VaultError
from streams.web.auth import Authenticator
from streams.web.case_audience import (
    EVERY_CASE,
    NO_CASE,
    audience,
    cases_for,
    refusal_without_credential,
)
from streams.web.locales import Locale, negotiate
from streams.web.paced import Paced
from streams.web.render import CaseRow, Overview, case_page, not_found_page, overview_page
from streams.web.views import TrailReader, store_unavailable, vault_unavailable

#: Most recent cases listed on the front page.
MAX_CASES = 200
#: Phase of a case whose lifecycle another worker holds.
ELSEWHERE = ""
#: Seconds after which to ask again for a case accepted but not stored yet: the sink stores
#: an entry within a second or two of its acceptance.
RECORDING_RETRY_SECONDS = 5


@dataclass(frozen=True)
class PageSources:
    """What the page reads: the worker's case table, the audit store and the counters."""

    #: The case table (:mod:`streams.hub.case_table`), a Faust table.
    table: Any
    trails: TrailReader
    #: The dashboard's projection, whose outcomes are the public statistics.
    figures: ProjectionCache
    metrics: HubMetrics
    auth: Authenticator
    #: The working-day calendar the deadline clocks count on, for the days each has left.
    calendar: WorkingCalendar
    #: K: no statistic is published from fewer cases (KAWAL_STATS_MIN_CASES).
    min_cases: int
    #: Every case shown to readers without a credential (KAWAL_PUBLIC_CASES).
    public_cases: bool = False


@dataclass(frozen=True)
class FrontPage:
    """A build of the front page: what it shows, and who may see each listed case."""

    overview: Overview
    #: Each listed case's parties, as its lifecycle has them (none for one another worker holds).
    parties: dict[str, CaseParties]


def register(app: faust.App, sources: PageSources) -> None:
    """Attach ``GET /`` and ``GET /cases/{case_id}`` to the worker's app.

    Registered before Faust applies its own blueprints, so this ``/`` answers instead of
    Faust's JSON index. The front page is built at a bounded rate (:mod:`streams.web.paced`).
    """
    front = Paced(lambda: overview(sources))

    @app.page("/", name="kawal-overview")
    class OverviewPage(web.View):
        """Cases, statistics, throughput and rejects."""

        async def get(self, request: web.Request) -> web.Response:
            principal = await sources.auth.principal(request)
            if isinstance(principal, AccessRefusal):
                return sources.auth.refuse(self, request, principal)
            locale = locale_of(request)
            seen_by = audience(principal, sources.public_cases)
            try:
                page = await front.derived(
                    (locale, seen_by), lambda built: _front_page(sources, built, seen_by, locale)
                )
            except StoreError:
                return store_unavailable(self)
            return self.html(page)

    @app.page("/cases/{case_id}", name="kawal-case")
    class CasePage(web.View):
        """One case's verified timeline."""

        async def get(self, request: web.Request, case_id: str) -> web.Response:
            case_id = canonical_case_id(case_id) or case_id  # the hub spells UUIDs one way
            principal = await sources.auth.principal(request)
            if isinstance(principal, AccessRefusal):
                return sources.auth.refuse(self, request, principal)
            refusal = refusal_without_credential(principal, sources.public_cases)
            if refusal is not None:
                return sources.auth.refuse(self, request, refusal)
            lifecycle = lifecycle_of(sources.table.get(case_id))
            trails = sources.trails
            try:
                # Before the case is read: the refusal must not depend on what reading finds.
                refusal = await asyncio.to_thread(
                    trails.refusal, case_id, principal, sources.public_cases
                )
                if refusal is not None:
                    return sources.auth.refuse(self, request, refusal)
                view = await asyncio.to_thread(trails.view, case_id)
            except StoreError:
                return store_unavailable(self)
            except VaultError:
                return vault_unavailable(self)
            locale = locale_of(request)
            if view is None:
                return _unstored(self, case_id, lifecycle, locale)
            now = datetime.now(UTC)
            row = case_row(case_id, lifecycle, None, now, sources.calendar) if lifecycle else None
            return self.html(case_page(view, row, now, locale))


def locale_of(request: web.Request) -> Locale:
    """The language a request asks for (``?lang=``, then ``Accept-Language``)."""
    return negotiate(request.query.get("lang"), request.headers.get("Accept-Language"))


def _front_page(sources: PageSources, built: FrontPage, seen_by: str, locale: Locale) -> str:
    """The front page as the audience ``seen_by`` may see it (:mod:`streams.web.case_audience`)."""
    institutions = sources.trails.directory.institutions
    shown = cases_for(built.overview.cases, seen_by, built.parties, {i.id: i for i in institutions})
    view = replace(
        built.overview,
        cases=shown,
        cases_shown=seen_by != NO_CASE,
        party_of=None if seen_by in (EVERY_CASE, NO_CASE) else seen_by,
        considered=len(built.overview.cases),
    )
    return overview_page(view, locale)


def _unstored(
    view: web.View, case_id: str, lifecycle: CaseLifecycle | None, locale: Locale
) -> web.Response:
    """The page of a case the audit store does not hold: unknown, or accepted and not stored.

    Only a reader who may see the case gets here (:meth:`TrailReader.refusal`). A case the hub
    accepted is listed on the front page before the sink has stored its trail: its page says
    so, 503 with ``Retry-After``; any other is a 404 page.
    """
    if lifecycle is not None:
        page = not_found_page(case_id, locale, recording=True)
        response = view.html(page, status=503)
        response.headers["Retry-After"] = str(RECORDING_RETRY_SECONDS)
        return response
    return view.html(not_found_page(case_id, locale), status=404)


async def overview(sources: PageSources) -> FrontPage:
    """Everything the front page may show, read now (the statistics as lately projected)."""
    now = datetime.now(UTC)
    listed, stored, stats = await asyncio.to_thread(_from_store, sources)
    # The table is read on the event loop (its owner), by key: a lifecycle is decoded only
    # for a listed case and for one the store does not hold yet.
    in_table = set(case_ids(sources.table))
    pending = sorted(in_table - stored)[:MAX_CASES]
    lifecycles = _lifecycles(sources.table, [summary.case_id for summary in listed] + pending)
    shown = Overview(
        now=now,
        cases=case_rows(listed, pending, lifecycles, now, sources.calendar)[:MAX_CASES],
        total_cases=len(in_table | stored),
        stats=stats,
        throughput=throughput(sources.metrics.events),
        rejections=rejections(sources.metrics.rejections),
    )
    return FrontPage(
        shown, {case_id: parties_of_case(case) for case_id, case in lifecycles.items()}
    )


def _lifecycles(table: Any, wanted: list[str]) -> dict[str, CaseLifecycle]:
    found: dict[str, CaseLifecycle] = {}
    for case_id in wanted:
        case = lifecycle_of(read_value(table, case_id))
        if case is not None:
            found[case_id] = case
    return found


def _from_store(sources: PageSources) -> tuple[list[CaseSummary], set[str], dict[str, Any]]:
    store = sources.trails.store
    stats = front_page_stats(sources.figures.projection(), sources.min_cases)
    return store.recent_cases(MAX_CASES), store.case_ids(), stats


def case_rows(
    listed: list[CaseSummary],
    pending: list[str],
    lifecycles: dict[str, CaseLifecycle],
    now: datetime,
    calendar: WorkingCalendar | None = None,
) -> list[CaseRow]:
    """Cases still on their way to the store (``pending``) first, then ``listed``, newest first."""
    rows = [case_row(case_id, lifecycles.get(case_id), None, now, calendar) for case_id in pending]
    rows += [
        case_row(summary.case_id, lifecycles.get(summary.case_id), summary, now, calendar)
        for summary in listed
    ]
    return rows


def case_row(
    case_id: str,
    case: CaseLifecycle | None,
    summary: CaseSummary | None,
    now: datetime,
    calendar: WorkingCalendar | None = None,
) -> CaseRow:
    """One case for the page from its lifecycle and its store summary, either may be missing.

    With the ``calendar``, each clock not yet due says how many working days it has left.
    """
    stored: dict[str, Any] = {}
    if summary is not None:
        stored = {
            "entries": summary.entries,
            "last_event_type": summary.last_event_type,
            "last_recorded_at": summary.last_recorded_at.isoformat(),
        }
    if case is None:
        return CaseRow(case_id, ELSEWHERE, **stored)
    return CaseRow(
        case_id,
        case.phase.value,
        institution=case.employing_agency,
        region=case.region_code,
        clocks=waiting(case),
        overdue_rules=frozenset(clock["rule_id"] for clock in overdue(case, now)),
        follow_up_breached=case.follow_up_breached,
        days_left=_days_left(case, now, calendar) if calendar is not None else {},
        **stored,
    )


def _days_left(case: CaseLifecycle, now: datetime, calendar: WorkingCalendar) -> dict[str, int]:
    """Working days left of each clock of ``case`` not yet due at ``now``, by rule id."""
    left: dict[str, int] = {}
    for clock in waiting(case):
        due_at = datetime.fromisoformat(str(clock["due_at"]))
        if due_at > now:
            left[str(clock["rule_id"])] = working_days_left(calendar, due_at, now)
    return left


def throughput(events: Counter) -> dict[tuple[str, str], float]:
    """``kawal_events_total`` by ``(stage, outcome)``."""
    return {
        (sample.labels["stage"], sample.labels["outcome"]): sample.value
        for sample in _totals(events)
    }


def rejections(counter: Counter) -> list[tuple[str, str, float]]:
    """``kawal_rejections_total`` as ``(stage, reason, count)``, most frequent first."""
    found = [
        (sample.labels["stage"], sample.labels["reason"], sample.value)
        for sample in _totals(counter)
        if sample.value > 0
    ]
    return sorted(found, key=lambda item: (-item[2], item[0], item[1]))


def _totals(counter: Counter) -> list[Any]:
    return [
        sample
        for metric in counter.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    ]
