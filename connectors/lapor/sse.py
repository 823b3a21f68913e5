"""Server-sent events of the tracking page: one event's bytes, and a reader gone away."""

from __future__ import annotations

from aiohttp import web


def reader_gone(request: web.Request) -> bool:
    """Whether the reader of a stream closed its connection."""
    return request.transport is None or request.transport.is_closing()


def sse_event(name: str, data: str) -> bytes:
    """The server-sent event ``name`` carrying ``data``, one ``data:`` line per line."""
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {name}\n{lines}\n".encode()
