"""Requests no route serves, answered as a view answers its errors: a problem document.

aiohttp answers an address no route has (404) and a method a route does not take (405)
itself, in plain text. A script reading the hub's API matches on reason codes, so these carry
one too: ``no_such_route`` and ``method_not_allowed``, aiohttp's ``Allow`` header kept. Only
the router's own answers are rewritten: a view's errors are already problem documents.
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


def answer_unrouted(app: faust.App) -> faust.App:
    """``app``, its web server answering unknown addresses and methods with problems."""
    # Faust's web server is its aiohttp driver, whose aiohttp application is ``web_app``.
    cast(Web, app.web).web_app.middlewares.append(_unrouted)
    return app


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
        return web.Response(
            body=json.dumps(problem(exc.status, reason, detail)).encode(),
            status=exc.status,
            content_type=PROBLEM_CONTENT_TYPE,
            headers={"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None,
        )
