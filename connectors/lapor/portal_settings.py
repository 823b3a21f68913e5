"""Where the portal listens, what it takes, and whom it takes a request from (the rate limits').

The portal's listener (:mod:`connectors.lapor.server`) and its HTTP side
(:mod:`connectors.lapor.web`) share these settings; a source is what the rate limits and the
slow bodies' slots (:mod:`connectors.lapor.pacing`) count per.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class PortalSettings:
    """Where the portal listens, how much it takes, how long it waits for a request (s)."""

    host: str
    port: int
    max_request_bytes: int
    idle_seconds: float
    forwarded_for: str | None = None
    """Header naming the client behind a trusted proxy (``X-Forwarded-For``); None: the peer."""


def source_of(request: web.Request, settings: PortalSettings) -> str:
    """Who sent the request, for the rate limits."""
    if settings.forwarded_for:
        forwarded = request.headers.get(settings.forwarded_for, "")
        if forwarded:
            return forwarded.split(",")[-1].strip()  # the hop our own proxy added
    return request.remote or "unknown"
