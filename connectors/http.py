"""JSON over HTTP for connectors whose institution's system is a web API."""

from __future__ import annotations

import http.client
from typing import Any
from urllib.parse import urlsplit

from connectors.errors import TransientError
from connectors.json_input import read_json


def post_json(
    url: str, body: bytes, headers: dict[str, str], timeout: float, system: str | None = None
) -> tuple[int, dict[str, Any]]:
    """POST ``body`` to ``url``; the status and the JSON object answered ({} if none).

    Redirects are not followed (a POST must not silently become a GET elsewhere).

    Args:
        url: Where to post.
        body: The JSON bytes.
        headers: Request headers.
        timeout: Seconds to wait for connecting and for the answer.
        system: Name of the system in error messages (the URL's host if None).

    Raises:
        TransientError: no answer within ``timeout`` seconds, or the host cannot be reached.
    """
    return _exchange("POST", url, body, headers, timeout, system)


def get_json(
    url: str, headers: dict[str, str], timeout: float, system: str | None = None
) -> tuple[int, dict[str, Any]]:
    """GET ``url`` (its query included); the status and the JSON object answered ({} if none).

    Raises:
        TransientError: no answer within ``timeout`` seconds, or the host cannot be reached.
    """
    return _exchange("GET", url, None, headers, timeout, system)


def _exchange(
    method: str,
    url: str,
    body: bytes | None,
    headers: dict[str, str],
    timeout: float,
    system: str | None,
) -> tuple[int, dict[str, Any]]:
    parts = urlsplit(url)
    name = system or parts.hostname
    factory = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = factory(parts.hostname or "", parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    except TimeoutError as exc:
        raise TransientError(f"{name} did not answer within {timeout} s") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise TransientError(f"{name} unreachable ({type(exc).__name__})") from exc
    finally:
        connection.close()
    try:
        answer = read_json(raw) if raw else {}
    except ValueError:
        answer = {}
    return response.status, answer if isinstance(answer, dict) else {}
