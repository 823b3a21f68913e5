"""The headers every answer of a hub process carries, whatever view (or error) made it.

A trail or an access log read with a credential holds personal data, and a page's address
holds a case id: nothing the hub answers may be kept by a browser or a proxy, framed by
another site, have its media type guessed, or leak its address in a ``Referer``. The pages
are server-rendered without script, so their policy allows none. The headers are set when a
response is prepared, so aiohttp's own answers (404, 405, 500) carry them too.
"""

from __future__ import annotations

from typing import cast

import faust
from aiohttp import web
from faust.web.drivers.aiohttp import Web

#: Set on every response (a view's own value of one of them is kept: the public exports'
#: ``no-cache``, :mod:`streams.web.citable`).
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


def secure(app: faust.App) -> faust.App:
    """``app``, every response of its web server given :data:`HEADERS`."""
    # Faust's web server is its aiohttp driver, whose aiohttp application is ``web_app``.
    cast(Web, app.web).web_app.on_response_prepare.append(_add_headers)
    return app


async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
