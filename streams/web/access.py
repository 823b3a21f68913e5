"""``GET /access-log``: who read personal data of which case, for those who may know.

An institution sees the reads of the cases it is party to (the record of processing Law
27/2022 asks for, and how a reporter's protector learns who looked); an operator sees every
read; the public sees none. ``?case=ID`` narrows it to one case, which an institution must be
party to (a case the store does not hold is a 404, not an empty list, to a reader who would
see it if it existed; to another, the 403 of another's case, so no answer tells which ids
exist), and ``?from=``/``?to=`` to the reads of a period. Any other parameter, or an end of
the period of another form, is a 400 ``invalid_filter``: a filter silently dropped would
pass off the whole log as a period's. The log holds principals and field names, never a
personal-data value, so reading it is not itself logged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import faust
from faust import web

from schemas.codec import AvroCodec
from schemas.identity import canonical_case_id
from streams.audit.access_log import AccessLog, seen_by, viewers_of
from streams.audit.store import AuditStore
from streams.audit.trail import Directory, NotEntitledError
from streams.domain.disclosure_policy import DisclosurePolicy
from streams.domain.principals import AccessProblem, AccessRefusal, Principal
from streams.domain.read_period import ReadPeriod, ReadPeriodError, read_period
from streams.web.auth import Authenticator
from streams.web.case_audience import no_case_of_yours, told_unknown
from streams.web.problems import problem_response
from streams.web.query import repeated, repeated_detail

#: The answer to a request without a credential.
NO_CREDENTIAL = AccessRefusal(
    AccessProblem.AUTHENTICATION_REQUIRED,
    "the access log is shown to institutions and operators: send 'Authorization: Bearer <token>'",
)
#: The query parameters the view reads.
PARAMETERS = ("case", "from", "to")


class UnknownCaseError(LookupError):
    """``?case=`` names a case the audit store does not hold."""


class QueryError(ValueError):
    """A query the view cannot take; ``reason`` is the problem's code (``invalid_...``)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class AccessReader:
    """What the access-log view reads.

    The log; the trails, which say whose case is whose; and the policy, which says which
    fields of another's reads an institution may see.
    """

    log: AccessLog
    store: AuditStore
    codec: AvroCodec
    directory: Directory
    policy: DisclosurePolicy

    def reads_for(
        self, reader: Principal, case_id: str | None, period: ReadPeriod | None = None
    ) -> list[dict[str, Any]]:
        """The logged reads ``reader`` may see, of ``case_id`` only and in ``period``, if given.

        Raises:
            UnknownCaseError: ``case_id`` is not in the audit store (said only to a reader
                :func:`~streams.web.case_audience.told_unknown`).
            NotEntitledError: an institution asked about a case it is not party to, or one
                not in the store that it may not be told of.
        """
        if case_id is not None and self.store.case_head(case_id) is None:
            if not told_unknown(reader, self.directory, public_cases=False):
                raise NotEntitledError(no_case_of_yours(reader.name, self.directory))
            raise UnknownCaseError(f"no case {case_id} in the audit store; GET / lists the cases")
        wanted = [case_id] if case_id is not None else None
        if reader.institution is None:
            return [record.as_json() for record in self.log.entries(wanted, period=period)]
        candidates = wanted if wanted is not None else self.log.case_ids()
        own = viewers_of(reader.institution, candidates, self.store, self.codec, self.directory)
        if case_id is not None and not own:
            # Worded as for a case the store does not hold: either would tell which ids exist.
            raise NotEntitledError(no_case_of_yours(reader.institution, self.directory))
        return [
            seen_by(record, own[record.case_id], self.policy).as_json()
            for record in self.log.entries(list(own), period=period)
        ]


def filters_of(query: Any) -> tuple[str | None, ReadPeriod]:
    """``?case=``, canonical, and the period of ``?from=``/``?to=`` of a request's query.

    Raises:
        QueryError: an unknown parameter or a period end of another form (``invalid_filter``),
            or a case that is no UUID (``invalid_case``); the message says what to send.
    """
    unknown = sorted(set(query) - set(PARAMETERS))
    if unknown:
        raise QueryError(
            "invalid_filter",
            f"unknown parameter {', '.join(unknown)}; the access log takes "
            "case=<case id>, from=<when> and to=<when>",
        )
    twice = repeated(query, PARAMETERS)
    if twice is not None:
        raise QueryError("invalid_filter", repeated_detail(twice))
    case_id = query.get("case")
    if case_id is not None:
        case_id = canonical_case_id(case_id)
        if case_id is None:
            raise QueryError("invalid_case", "case must be a case id (a UUID), as GET / lists them")
    try:
        return case_id, read_period(query.get("from"), query.get("to"))
    except ReadPeriodError as exc:
        raise QueryError("invalid_filter", str(exc)) from exc


def register_access_log(app: faust.App, reader: AccessReader, auth: Authenticator) -> None:
    """Attach ``GET /access-log`` to the worker's app."""

    @app.page("/access-log")
    class AccessLogView(web.View):
        """Logged reads of personal data the request's principal may see."""

        async def get(self, request: web.Request) -> web.Response:
            principal = await auth.principal(request)
            if isinstance(principal, AccessRefusal):
                return auth.refuse(self, request, principal)
            if principal is None:
                return auth.refuse(self, request, NO_CREDENTIAL)
            try:
                case_id, period = filters_of(request.query)
            except QueryError as exc:
                return problem_response(self, 400, exc.reason, str(exc))
            try:
                reads = await asyncio.to_thread(reader.reads_for, principal, case_id, period)
            except UnknownCaseError as exc:
                return problem_response(self, 404, "no_such_case", str(exc))
            except NotEntitledError as exc:
                return auth.refuse(
                    self, request, AccessRefusal(AccessProblem.NOT_ENTITLED, str(exc))
                )
            return self.json({"principal": principal.name, "role": principal.role, "reads": reads})
