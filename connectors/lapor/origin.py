"""Whether a request was sent by a browser on behalf of another site.

The form and the JSON API take reports without any login, so another site could otherwise
make its visitors' browsers file reports (a plain form post, or a ``no-cors`` fetch whose
``text/plain`` body is JSON): each visitor's address is a fresh source for the rate limits,
so a page seen by many could flood the office with reports naming whom it likes. Browsers
say where a request comes from (``Sec-Fetch-Site``; ``Origin`` in older ones); a client that
is no browser sends neither and is taken as before.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

#: ``Sec-Fetch-Site`` values of a request another site started.
_FOREIGN = frozenset({"cross-site", "same-site"})


def from_another_site(request: web.Request) -> bool:
    """True when a browser sent ``request`` from a page that is not the portal's own."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site.lower() in _FOREIGN
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    # A sandboxed or local page sends "null"; behind a proxy the scheme may differ, the host not.
    return origin == "null" or urlsplit(origin).netloc.lower() != request.host.lower()
