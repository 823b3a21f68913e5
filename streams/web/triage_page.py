"""``GET /triage``: the supervisor's open reports by severity, age and next deadline.

For election supervisors (the cases they supervise) and operators (every case); the public and
other institutions are refused with a reason code. HTML by default, in Indonesian unless
English is asked for; ``?format=json`` for a supervisor's own system. No personal data: the
rows come from the case table (:mod:`streams.domain.triage`). Like the front page, a worker
shows the cases of the partitions it holds.

Browsers send the credential as ``Authorization: Bearer``: in production an identity-aware
proxy in front of the hub adds it after the supervisor's staff log in (docs/web.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import faust
from faust import web

from streams.audit.trail import Directory
from streams.domain.calendar import WorkingCalendar
from streams.domain.lifecycle import CaseLifecycle
from streams.domain.principals import AccessProblem, AccessRefusal, Principal
from streams.domain.severity import SeverityTable
from streams.domain.triage import SUPERVISOR, TriageRow, supervised_by, triage
from streams.hub.case_scan import each_case
from streams.hub.case_table import lifecycle_of
from streams.web.auth import Authenticator
from streams.web.locales import negotiate
from streams.web.problems import format_problem
from streams.web.render import templates

NO_CREDENTIAL = AccessRefusal(
    AccessProblem.AUTHENTICATION_REQUIRED,
    "the triage view is for election supervisors and operators: "
    "send 'Authorization: Bearer <token>'",
)


@dataclass(frozen=True)
class TriageSources:
    """What the view reads: the case table, the severity table, the calendar, who is who."""

    table: Any
    severity: SeverityTable
    calendar: WorkingCalendar
    directory: Directory
    auth: Authenticator

    async def rows_for(
        self, principal: Principal, now: datetime
    ) -> list[TriageRow] | AccessRefusal:
        """The open reports ``principal`` supervises, or why it may not see any.

        The table is read a page at a time (:mod:`streams.hub.case_scan`), so a supervisor's
        request does not hold the pipeline back however many cases the worker holds.
        """
        keep = self._scope(principal)
        if isinstance(keep, AccessRefusal):
            return keep
        cases = [case async for case in self._cases(keep)]
        return triage(cases, self.severity, self.calendar, now)

    def _scope(self, principal: Principal) -> Callable[[CaseLifecycle], bool] | AccessRefusal:
        if principal.institution is None:
            return lambda case: True
        found = [i for i in self.directory.institutions if i.id == principal.institution]
        if not found or found[0].role != SUPERVISOR:
            return AccessRefusal(
                AccessProblem.NOT_ENTITLED,
                f"{principal.name} is not an election supervisor; triage is the supervisor's view",
            )
        return supervised_by(found[0], self.directory.authority_map)

    async def _cases(
        self, keep: Callable[[CaseLifecycle], bool]
    ) -> AsyncIterator[tuple[str, CaseLifecycle]]:
        async for case_id, value in each_case(self.table):
            case = lifecycle_of(value)
            if case is not None and keep(case):
                yield case_id, case


def sign_in_page(request: web.Request) -> str:
    """The page telling a browser without a credential whom the triage is for."""
    locale = negotiate(request.query.get("lang"), request.headers.get("Accept-Language"))
    return templates().render("sign_in.html", locale, home_link=True)


def register(app: faust.App, sources: TriageSources) -> None:
    """Attach ``GET /triage`` to the worker's app."""

    @app.page("/triage", name="kawal-triage")
    class Triage(web.View):
        """Open reports, most serious and most urgent first."""

        async def get(self, request: web.Request) -> web.Response:
            wanted = request.query.get("format")
            refused = format_problem(self, wanted, ("json",))
            if refused is not None:
                return refused
            principal = await sources.auth.principal(request)
            if isinstance(principal, AccessRefusal):
                return sources.auth.refuse(self, request, principal)
            if principal is None:
                # A person following the site's link gets a page saying who it is for.
                page = None if wanted else sign_in_page(request)
                return sources.auth.refuse(self, request, NO_CREDENTIAL, page)
            now = datetime.now(UTC)
            rows = await sources.rows_for(principal, now)
            if isinstance(rows, AccessRefusal):
                return sources.auth.refuse(self, request, rows)
            if wanted == "json":
                return self.json(triage_json(principal, rows, now))
            locale = negotiate(request.query.get("lang"), request.headers.get("Accept-Language"))
            return self.html(triage_page(principal, rows, sources.severity, now, locale))


def triage_json(principal: Principal, rows: list[TriageRow], now: datetime) -> dict[str, Any]:
    """The view as JSON: the rows in order, times in ISO 8601."""
    return {
        "principal": principal.name,
        "generated_at": now.isoformat(),
        "reports": [_json_row(row) for row in rows],
    }


def triage_page(
    principal: Principal,
    rows: list[TriageRow],
    severity: SeverityTable,
    now: datetime,
    locale: Any,
) -> str:
    """The view as HTML: counts per severity, then the rows."""
    counts = {level: sum(1 for row in rows if row.severity == level) for level in severity.levels}
    return templates().render(
        "triage.html", locale, principal=principal.name, rows=rows, counts=counts, now=now
    )


def _json_row(row: TriageRow) -> dict[str, Any]:
    found = asdict(row)
    found["reported_on"] = row.reported_on.isoformat()
    found["next_due"] = None if row.next_due is None else row.next_due.isoformat()
    return found
