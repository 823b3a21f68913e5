"""The portal's HTTP side: the report form, the JSON API, the tracking page and its live stream.

=========================== ============================================================
``GET /``                   the report form (Indonesian; ``?lang=en`` or the browser's
                            preference for English)
``POST /lapor``             the form's submission (``multipart/form-data``, files as
                            ``evidence``): the page showing the tracking code, once
``POST /api/v1/reports``    the same as JSON; evidence as ``[{"name", "content_base64"}]``;
                            202 ``{"tracking_code", "case_number", "status_url", "filing"}``
``GET /lacak``              the form asking for a tracking code
``GET /lacak/{code}``       the case's steps; ``/lacak/{code}/events`` streams them
                            (server-sent events: ``event: steps`` with the steps' HTML)
``GET /api/v1/tracking/{code}``  the steps as JSON
``GET /health``             200
=========================== ============================================================

Every refusal is JSON ``{"error", "message", "problems": [{"field", "code", "message"}]}``
for the API and the form again, its fields kept and marked, for the browser; in the request's
language. Requests are limited per source (429) and in size (413). Nothing of a request is
logged: paths hold tracking codes, bodies personal data.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from http import HTTPStatus

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage

from connectors.json_input import read_json
from connectors.lapor import lost_token, refusals
from connectors.lapor.bodies import MULTIPART, URLENCODED, BodyReader
from connectors.lapor.codes import code_fault, read_code, readings
from connectors.lapor.intake import IntakeRefusedError, ReportIntake
from connectors.lapor.json_uploads import json_uploads
from connectors.lapor.origin import from_another_site
from connectors.lapor.pages import Pages, filing_json
from connectors.lapor.portal_settings import PortalSettings, source_of
from connectors.lapor.rates import Action, RateLimits
from connectors.lapor.sse import reader_gone, sse_event
from connectors.lapor.stream_slots import StreamSlots
from connectors.lapor.tracking import Tracked, TrackingStore, TrackingUnavailableError
from streams.web.locales import Locale, negotiate

log = logging.getLogger(__name__)

#: Seconds between two looks at the tracking store while a stream is open.
STREAM_POLL_SECONDS = 1.0
#: A stream ends after this long; the browser reconnects by itself.
STREAM_SECONDS = 300.0
#: Seconds between two comment lines on a stream with nothing new.
HEARTBEAT_SECONDS = 15.0
#: Streams one source may hold open at once (a reporter needs one; a few tabs are fine).
MAX_STREAMS_PER_SOURCE = 4
#: The pages' scripts (files, so the policy allows no inline script).
SCRIPTS = ("track.js", "form.js", "draft.js")
#: Paths no rate limit counts: the probe, the empty form and the pages' scripts.
_UNLIMITED = frozenset({"/health", "/", *(f"/static/{name}" for name in SCRIPTS)})
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the tracking code is in the path
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
}
#: What a browser's form posts as.
_FORM_TYPES = frozenset({MULTIPART, URLENCODED})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
__all__ = ["Portal", "PortalSettings", "locale_of"]


def locale_of(request: web.Request) -> Locale:
    """The request's language: Indonesian unless English is asked for."""
    return negotiate(request.query.get("lang"), request.headers.get("Accept-Language"))


class Portal:
    """The aiohttp application of one portal."""

    def __init__(
        self,
        settings: PortalSettings,
        intake: ReportIntake,
        tracking: TrackingStore,
        rates: RateLimits,
        pages: Pages,
    ) -> None:
        self.settings = settings
        self.bodies = BodyReader(
            settings.idle_seconds,
            settings.max_request_bytes,
            partial(source_of, settings=settings),
        )
        self.intake = intake
        self.tracking = tracking
        self.rates = rates
        self.pages = pages
        self._streams = StreamSlots(MAX_STREAMS_PER_SOURCE, STREAM_SECONDS)
        #: Set when the server stops: open streams end.
        self.closing = False

    def close(self) -> None:
        """Close the stores the portal writes to."""
        self.intake.parts.close()

    def app(self) -> web.Application:
        """The application, its routes and middlewares."""
        app = web.Application(
            client_max_size=self.settings.max_request_bytes,
            # A tracking link pasted with a slash after it (chat apps add one) still opens.
            middlewares=[
                self._headers,
                web.normalize_path_middleware(append_slash=False, remove_slash=True),
                self._same_site,
                self._limits,
            ],
        )
        app.add_routes(
            [
                web.get("/", self.form),
                web.get("/lapor", self.to_form),
                web.post("/lapor", self.submit_form),
                web.post("/api/v1/reports", self.submit_json),
                web.get("/lacak", self.ask_code),
                web.post("/lacak", self.find_code),
                web.get("/lacak/{code}", self.status),
                web.get("/lacak/{code}/events", self.stream),
                web.get("/api/v1/tracking/{code}", self.status_json),
                web.get(f"/static/{{name:{'|'.join(map(re.escape, SCRIPTS))}}}", self.script),
                web.get("/health", self.health),
            ]
        )
        return app

    @web.middleware
    async def _headers(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        limit = self.settings.max_request_bytes
        try:  # a body declared larger than the limit is refused at once, not waited for
            if (request.content_length or 0) > limit:
                raise web.HTTPRequestEntityTooLarge(limit, request.content_length or 0)
            response = await handler(request)
        except web.HTTPRequestEntityTooLarge:
            response = self._refusal(
                request, IntakeRefusedError(413, *refusals.too_large(self.pages.limits))
            )
        except IntakeRefusedError as exc:  # the tracking store, down while a code was looked up
            response = self._refusal(request, exc)
        except web.HTTPNotFound:  # a mistyped address: a page in the reader's words, not text
            response = self._refusal(request, IntakeRefusedError(404, *refusals.NOT_FOUND))
        except web.HTTPMethodNotAllowed as exc:  # the same, with the methods it takes
            response = self._refusal(request, IntakeRefusedError(405, *refusals.WRONG_METHOD))
            response.headers["Allow"] = exc.headers["Allow"]
        except web.HTTPException as exc:
            exc.headers.update(_HEADERS)
            raise
        if not response.prepared:
            response.headers.update(_HEADERS)
        return response

    @web.middleware
    async def _same_site(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "POST" and from_another_site(request):
            return self._refusal(request, IntakeRefusedError(403, *refusals.CROSS_SITE))
        return await handler(request)

    @web.middleware
    async def _limits(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in _UNLIMITED:
            return await handler(request)
        source = source_of(request, self.settings)
        if request.method != "POST" or request.path == "/lacak":
            if self.rates.allow("track", source):
                return await handler(request)
            return await self._over(request, source, "track")
        if not self.rates.allow("attempt", source):
            return await self._over(request, source, "attempt")
        if self.rates.spent("report", source):
            return await self._over(request, source, "report")
        response = await handler(request)
        if response.status < HTTPStatus.BAD_REQUEST:  # kept: a refused post is not a report
            self.rates.allow("report", source)
        return response

    async def _over(self, request: web.Request, source: str, action: Action) -> web.StreamResponse:
        wait = self.rates.retry_after(action, source)
        refusal = IntakeRefusedError(429, *refusals.too_many(wait), retry_after=wait)
        if request.path == "/lapor":  # the reporter's words stay in the form, to send later
            return await self._form_again(request, refusal)
        return self._refusal(request, refusal)

    async def health(self, request: web.Request) -> web.Response:
        """200 while the portal serves."""
        return web.json_response({"status": "ok"})

    async def script(self, request: web.Request) -> web.Response:
        """A page's script (a file, so the policy allows no inline script)."""
        name = request.match_info["name"]
        return web.Response(text=self.pages.script(name), content_type="text/javascript")

    async def form(self, request: web.Request) -> web.Response:
        """The empty report form."""
        return self._html(self.pages.form(locale_of(request), {}, None))

    async def to_form(self, request: web.Request) -> web.Response:
        """The form's address itself (a language link on the page after sending): the form."""
        raise web.HTTPSeeOther("/?lang=en" if locale_of(request) == "en" else "/")

    async def submit_form(self, request: web.Request) -> web.Response:
        """A report from the form: the tracking code once, or the form again (files held kept)."""
        locale = locale_of(request)
        if request.content_type not in _FORM_TYPES:  # aiohttp reads any other body as no field
            return self._refusal(request, IntakeRefusedError(415, *refusals.NOT_A_FORM))
        try:
            body = await self.bodies.form(request)
        except (ValueError, BadHttpMessage):  # a field not UTF-8, a part's header broken
            return self._html(
                self.pages.form(locale, {}, IntakeRefusedError(400, *refusals.NOT_FORM)), 400
            )
        lost = lost_token.renew(body.fields)  # an old or saved page: held files need one
        try:
            submit = self.intake.submit
            accepted = await asyncio.to_thread(submit, body.fields, body.uploads, body.kept)
        except IntakeRefusedError as exc:
            refused = lost_token.explained(exc) if lost else exc
            page = self.pages.form(locale, body.fields, refused)
            return self._html(page, refused.status, refused)
        return self._html(self.pages.accepted(locale, accepted), 201)

    async def _form_again(self, request: web.Request, refusal: IntakeRefusedError) -> web.Response:
        """The form as it was sent, with ``refusal`` above it (no file of it is held anew)."""
        try:
            if request.content_type not in _FORM_TYPES:
                raise ValueError("no form")
            body = await self.bodies.form(request)
        except (ValueError, BadHttpMessage, IntakeRefusedError):
            return self._refusal(request, refusal)
        # Unread, so holding its files would spend the work the limit spares: the files held
        # for it already stay listed, and the ones just chosen are asked for again.
        held, lost = await asyncio.to_thread(self.intake.still_held, body.fields, body.kept)
        names = [upload.name for upload in body.uploads]
        again = replace(refusal, held=held, not_kept=len(names) + lost, again=names)
        page = self.pages.form(locale_of(request), body.fields, again)
        return self._html(page, refusal.status, refusal)

    async def submit_json(self, request: web.Request) -> web.Response:
        """A report as JSON: 202 with the tracking code, or the refusal."""
        try:
            raw = read_json(await self.bodies.in_time(request, request.read()))
        except ValueError:
            return self._refusal(request, IntakeRefusedError(400, *refusals.NOT_JSON))
        if not isinstance(raw, dict):
            return self._refusal(request, IntakeRefusedError(400, *refusals.NOT_JSON))
        uploads = json_uploads(raw.pop("evidence", []))
        if uploads is None:
            return self._refusal(request, IntakeRefusedError(400, *refusals.BAD_EVIDENCE))
        try:
            accepted = await asyncio.to_thread(self.intake.submit, raw, uploads)
        except IntakeRefusedError as exc:
            return self._refusal(request, exc)
        body = {
            "tracking_code": accepted.tracking_code,
            "case_number": accepted.case_number,
            "status_url": f"/lacak/{accepted.tracking_code}",
            "filing": filing_json(accepted.filing.standing, locale_of(request))
            | {"working_days": accepted.filing.working_days},
        }
        return web.json_response(body, status=202)

    async def ask_code(self, request: web.Request) -> web.Response:
        """The form asking for a tracking code."""
        return self._html(self.pages.ask_code(locale_of(request)))

    async def find_code(self, request: web.Request) -> web.Response:
        """The code typed into the form: on to its page, or the form again saying what is wrong."""
        locale = locale_of(request)
        typed = await self.bodies.code_field(request)
        if typed is not None and not typed.strip():
            return self._html(self.pages.ask_code(locale, problem="empty"), 400)
        code = read_code(typed) if typed is not None else None
        if code is None:
            # The shape to mend, if that is it; a form that cannot be read has no code to mend.
            problem = (code_fault(typed) if typed is not None else None) or "unknown"
            shown = (typed or "")[:64]
            return self._html(self.pages.ask_code(locale, problem=problem, typed=shown), 404)
        suffix = "?lang=en" if locale == "en" else ""
        raise web.HTTPSeeOther(f"/lacak/{code}{suffix}")

    async def status(self, request: web.Request) -> web.Response:
        """The case's steps, in plain words."""
        locale = locale_of(request)
        followed = await self._follow(request)
        if followed is None:
            typed = request.match_info["code"][:64]
            problem = code_fault(typed) or "unknown"
            return self._html(self.pages.ask_code(locale, problem=problem, typed=typed), 404)
        code, tracked = followed
        return self._html(self.pages.status(locale, code, tracked))

    async def status_json(self, request: web.Request) -> web.Response:
        """The case's steps as JSON."""
        followed = await self._follow(request)
        if followed is None:
            return self._refusal(request, IntakeRefusedError(404, *refusals.UNKNOWN_CODE))
        return web.json_response(self.pages.status_json(locale_of(request), followed[1]))

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: the steps' HTML now and whenever a step is added."""
        followed = await self._follow(request)
        if followed is None:
            return self._refusal(request, IntakeRefusedError(404, *refusals.UNKNOWN_CODE))
        tracked = followed[1]
        source, now = source_of(request, self.settings), asyncio.get_running_loop().time()
        if not self._streams.open(source, now):
            wait = self._streams.free_in(source, now)
            refused = IntakeRefusedError(429, *refusals.too_many_streams(wait), retry_after=wait)
            return self._refusal(request, refused)
        try:
            return await self._stream(request, tracked)
        finally:
            self._streams.close(source, now)

    async def _stream(self, request: web.Request, tracked: Tracked | None) -> web.StreamResponse:
        locale = locale_of(request)
        response = web.StreamResponse(headers=_HEADERS | {"Content-Type": "text/event-stream"})
        await response.prepare(request)
        shown = -1
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STREAM_SECONDS
        beat = loop.time()
        while loop.time() < deadline and not self.closing and not reader_gone(request):
            if tracked is not None and len(tracked.steps) != shown:
                shown = len(tracked.steps)
                await response.write(sse_event("steps", self.pages.steps(locale, tracked)))
            elif loop.time() - beat > HEARTBEAT_SECONDS:
                # A comment line: finds out a reader that went away without closing.
                await response.write(b": still following\n\n")
                beat = loop.time()
            await asyncio.sleep(STREAM_POLL_SECONDS)
            try:
                followed = await self._follow(request)
            except IntakeRefusedError:
                break  # the store is down: the browser reconnects and is told so
            tracked = followed[1] if followed is not None else None
        return response

    async def _follow(self, request: web.Request) -> tuple[str, Tracked] | None:
        """The code of the page asked for, as it was handed out, and its case; None: unknown."""
        try:
            for code in readings(request.match_info["code"]):
                if (tracked := await asyncio.to_thread(self.tracking.follow, code)) is not None:
                    return code, tracked
        except TrackingUnavailableError as exc:
            log.warning("lapor: tracking store unavailable (%s)", exc)
            wait = refusals.STORE_RETRY_SECONDS
            raise IntakeRefusedError(503, *refusals.TRACKING_DOWN, retry_after=wait) from None
        return None

    def _refusal(self, request: web.Request, refusal: IntakeRefusedError) -> web.Response:
        locale = locale_of(request)
        body = {
            "error": refusal.code,
            "message": refusal.message(locale),
            "problems": [problem.as_json(locale) for problem in refusal.problems],
        }
        if request.path.startswith("/api/") or request.path.endswith("/events"):
            return _retry(web.json_response(body, status=refusal.status), refusal)
        return self._html(self.pages.refusal(locale, refusal), refusal.status, refusal)

    def _html(
        self, text: str, status: int = 200, refusal: IntakeRefusedError | None = None
    ) -> web.Response:
        page = web.Response(text=text, status=status, content_type="text/html", charset="utf-8")
        return page if refusal is None else _retry(page, refusal)


def malformed(status: int) -> web.Response:
    """The answer to a request the server cannot parse: its language unknown, Indonesian."""
    code, indonesian, _ = refusals.MALFORMED
    body = {"error": code, "message": indonesian, "problems": []}
    return web.json_response(body, status=status, headers=_HEADERS)


def _retry(response: web.Response, refusal: IntakeRefusedError) -> web.Response:
    """``response`` saying when to send again, if waiting is what ``refusal`` asks for."""
    if refusal.retry_after is not None:
        response.headers["Retry-After"] = str(refusal.retry_after)
    return response
