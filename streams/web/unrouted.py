"""Requests no route serves, answered as a view answers its errors: a problem document.

aiohttp answers an address no route has (404) and a method a route does not take (405)
itself, in plain text. A script reading the hub's API matches on reason codes, so these carry
one too: ``no_such_route`` and ``method_not_allowed``, aiohttp's ``Allow`` header kept. Only
the router's own answers are rewritten: a view's errors are already problem documents.

A process that serves no page at ``/`` (the sink) answers it as an address no route has:
Faust's own index there (``{"status": "OK"}``, 200) is an address the docs do not give it, and
looks like a health check, which ``/livez`` and ``/readyz`` are.
"""

from __future__ import annotations

import json
from typing import cast

import faust
from aiohttp import web
from aiohttp.typedefs import Handler
from faust.web.drivers.aiohttp import Web

from streams.web.problems import PROBLEM_CONTENT_TYPE, problem

#: The documented routes, for the detail of an answer to an address or method no route has.
ROUTES = "docs/openapi.yaml lists the hub's addresses and their methods"


def answer_unrouted(app: faust.App, *, index: bool = True) -> faust.App:
    """``app``, its web server answering unknown addresses and methods with problems.

    Without ``index``, ``/`` is one of those addresses.
    """
    # Faust's web server is its aiohttp driver, whose aiohttp application is ``web_app``.
    middlewares = cast(Web, app.web).web_app.middlewares
    middlewares.append(_unrouted if index else _unrouted_without_index)
    return app


@web.middleware
async def _unrouted_without_index(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path == "/":
        return _problem(404, "no_such_route", f"the hub has no such address here; {ROUTES}")
    return await _unrouted(request, handler)


@web.middleware
async def _unrouted(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed) as exc:
        if request.match_info.http_exception is None:
            raise  # a view's own, not the router's
        if isinstance(exc, web.HTTPMethodNotAllowed):
            allowed = ", ".join(sorted(exc.allowed_methods))
            reason, detail = "method_not_allowed", f"this address takes {allowed}; {ROUTES}"
        else:
            reason, detail = "no_such_route", f"the hub has no such address; {ROUTES}"
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return _problem(exc.status, reason, detail, allow)


def _problem(
    status: int, reason: str, detail: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=json.dumps(problem(status, reason, detail)).encode(),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )
