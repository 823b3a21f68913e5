"""GET one address of a hub process with a short timeout: its status and JSON or text body."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

#: Seconds each read waits for its answer: ``kawal status`` takes a few seconds at most.
TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Answer:
    """What an address answered.

    Attributes:
        status: The HTTP status; 0 when nothing answered.
        body: The body as text (empty when nothing answered).
        failure: Why nothing answered (``connection refused``, ``timed out``), else empty.
    """

    status: int
    body: str
    failure: str = ""

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; empty when it is none."""
        try:
            found = json.loads(self.body)
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}


def get(url: str, timeout: float = TIMEOUT_SECONDS) -> Answer:
    """GET ``url``; an error status is an answer too, no answer is ``status`` 0 and why."""
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=_context(url)) as response:  # noqa: S310 - the hub's own address
            return Answer(int(response.status), _text(response.read()))
    except urllib.error.HTTPError as exc:
        return Answer(int(exc.code), _text(exc.read()))
    except urllib.error.URLError as exc:
        return Answer(0, "", _why(exc.reason))
    except (OSError, ValueError) as exc:
        return Answer(0, "", _why(exc))


def _context(url: str) -> ssl.SSLContext | None:
    # The probes send no credential and read health only; the hub's certificate names its
    # public host, not the loopback address an operator asks on (as `kawal up`'s own probes).
    if not url.startswith("https:"):
        return None
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _why(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return type(reason).__name__
