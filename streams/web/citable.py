"""Validators of the public exports, so a cited figure can be checked again later.

Every export of the dashboard and of the public register says when the audit store was read
(its "as of") inside the file, and carries, as HTTP validators:

- ``ETag``: a strong entity tag, the first 128 bits of the SHA-256 of the bytes answered (32
  hex digits). The bytes are fixed by the store's read (its as-of instant, a new one each
  time the store has grown), the filters and the language, so the tag changes exactly when
  the answer does, an erased name in the register included (a tag made of the store's entry
  count alone would not);
- ``Last-Modified``: the as-of instant (HTTP dates have whole seconds);
- ``Cache-Control: no-cache`` where the answer is public and holds no personal data: a cache
  may keep it but asks again each time, and ``If-None-Match`` with the tag answers
  ``304 Not Modified`` without a body. Other answers keep ``no-store``
  (:mod:`streams.web.response_headers`).

``If-Modified-Since`` is not answered with 304: two reads within one second would share a
``Last-Modified``, and the ETag compares the bytes themselves.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime

from faust import web

#: Starts every CSV download: Excel, opened by a double click, reads the file as UTF-8 only
#: with it; pandas, R, LibreOffice and Python's ``utf-8-sig`` drop it (docs/dashboard.md).
BOM = "\ufeff"
#: What a public answer without personal data allows a cache: keep it, but revalidate.
REVALIDATE = "no-cache"


def entity_tag(body: bytes) -> str:
    """The strong entity tag of ``body``: a quoted SHA-256 prefix (128 bits, hex)."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def http_date(instant: datetime) -> str:
    """``instant`` as an HTTP date (RFC 9110: GMT, whole seconds)."""
    return format_datetime(instant.astimezone(UTC), usegmt=True)


def validated(
    view: web.View,
    request: web.Request,
    response: web.Response,
    read_at: datetime,
    *,
    cacheable: bool,
) -> web.Response:
    """``response`` with its ETag and Last-Modified, or a 304 if the request has its tag.

    Args:
        view: the view answering.
        request: the request, whose ``If-None-Match`` is compared with the tag.
        response: the full answer (its body is read).
        read_at: when the store was read, the answer's as-of instant.
        cacheable: whether a cache may keep the answer (public, no personal data).
    """
    tag = entity_tag(bytes(response.body))
    headers = {"ETag": tag, "Last-Modified": http_date(read_at)}
    if cacheable:
        headers["Cache-Control"] = REVALIDATE
    if _matches(request.headers.get("If-None-Match"), tag):
        return view.bytes(b"", status=304, headers=headers)
    response.headers.update(headers)
    return response


def _matches(if_none_match: str | None, tag: str) -> bool:
    """Whether ``If-None-Match`` names ``tag`` (weak comparison, as RFC 9110 13.1.2 asks)."""
    if not if_none_match:
        return False
    wanted = [part.strip().removeprefix("W/") for part in if_none_match.split(",")]
    return "*" in wanted or tag in wanted
