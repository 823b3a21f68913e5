"""One form sent twice is one report: the button pressed twice, the page sent again after back.

Each rendered form carries a random token (``form_token``, 144 bits). The report's id and its
tracking code are derived from the portal's form key, that token and the report's content
(its checked fields and the SHA-256 of each evidence file), instead of drawn at random. So the
same form sent again with the same content is the same report: the spool keeps it once, and
the page answering the second request shows the same code (a browser shows only the answer to
its last request, so a fresh code there would leave the first report untrackable). A form
edited after going back is other content: a report of its own. A request without a valid
token (the JSON API, an older form) gets random ones, as before.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from connectors.lapor.codes import code_for, new_code

#: What a form token looks like: ``secrets.token_urlsafe(18)``.
FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{24}")
_CONTEXT = b"kawal.lapor.form.v1\x00"


@dataclass(frozen=True)
class ReportIds:
    """A report's id (the spool's post id) and its tracking code."""

    report_id: str
    tracking_code: str
    derived: bool
    """True: from a form token, so the same form sent again has the same ids."""


def new_form_token() -> str:
    """A fresh token for one rendered form."""
    return secrets.token_urlsafe(18)


def valid_form_token(value: Any) -> str | None:
    """``value`` if it is a form token, else None."""
    return value if isinstance(value, str) and FORM_TOKEN.fullmatch(value) else None


def report_ids(
    key: bytes | None, token: Any, fields: dict[str, Any], evidence: list[str]
) -> ReportIds:
    """The ids of a report: derived from ``token`` and the content, or random without one.

    Args:
        key: the portal's form key (None: every report gets random ids).
        token: the form token the request carried, if any.
        fields: the report's checked fields.
        evidence: the SHA-256 (hex) of each evidence file, in order.
    """
    token = valid_form_token(token)
    if key is None or token is None:
        return ReportIds(uuid.uuid4().hex, new_code(), derived=False)
    content = json.dumps([fields, evidence], sort_keys=True, ensure_ascii=False).encode()
    message = _CONTEXT + token.encode() + b"\x00" + hashlib.sha256(content).digest()
    seed = hmac.new(key, message, hashlib.sha256).digest()
    code = hmac.new(key, b"code\x00" + seed, hashlib.sha256).digest()
    return ReportIds(seed[:16].hex(), code_for(code), derived=True)
