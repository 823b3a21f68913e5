"""Error bodies of the HTTP API: RFC 9457 problem documents, built in one place.

Every error a view answers with JSON is ``application/problem+json`` with the members
``type`` (``urn:kawal:problem:`` and the reason code), ``title`` (the status's phrase),
``status``, ``detail`` (what to do) and the extension member ``reason``, the reason code
scripts match on. ``docs/openapi.yaml`` lists every reason code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from faust import web

#: Media type of a problem document (RFC 9457 section 3).
PROBLEM_CONTENT_TYPE = "application/problem+json"
#: Prefix of a problem's ``type``: a URN naming its reason code.
TYPE_PREFIX = "urn:kawal:problem:"


def problem(status: int, reason: str, detail: str) -> dict[str, Any]:
    """The problem document of a ``status`` answer with reason code ``reason``.

    Args:
        status: The HTTP status of the answer.
        reason: The machine-readable reason code, kept as the ``reason`` member.
        detail: What went wrong and what to do, never a secret or personal data.

    Returns:
        The document's members.
    """
    return {
        "type": TYPE_PREFIX + reason,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "reason": reason,
    }


def problem_response(
    view: web.View,
    status: int,
    reason: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    members: Mapping[str, Any] | None = None,
) -> web.Response:
    """The ``application/problem+json`` answer of ``view`` (see :func:`problem`).

    ``members``: extension members of this problem besides ``reason`` (RFC 9457 section 3.2).
    """
    body = json.dumps(problem(status, reason, detail) | dict(members or {})).encode()
    return view.bytes(
        body, content_type=PROBLEM_CONTENT_TYPE, status=status, headers=dict(headers or {})
    )


def format_problem(
    view: web.View, wanted: str | None, formats: tuple[str, ...]
) -> web.Response | None:
    """The 400 answer to a ``?format=`` the view does not serve; None when it serves it.

    A script that asks for a format it then does not get would read the page as its data.
    """
    if wanted is None or wanted in formats:
        return None
    detail = f"format must be {' or '.join(formats)}, or left out for the page"
    return problem_response(view, 400, "invalid_format", detail)
