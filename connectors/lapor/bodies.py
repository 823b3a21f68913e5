"""Reading a request's body in the time its size allows: bytes, or a form's fields and files.

A body that comes slower than :data:`MIN_BODY_RATE` only holds a connection, as a slow-loris
attack does: it is refused with 408. A form's files are read whole (the request's size is
bounded, :class:`~connectors.lapor.web.PortalSettings`), and the temporary file aiohttp
spools each one to (on disk past 1 MiB) is closed once read, not left holding a reporter's
evidence until garbage collection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.web_request import FileField

from connectors.lapor import refusals
from connectors.lapor.intake import IntakeRefusedError, Upload

#: The slowest body taken, in bytes per second (about 64 kbit/s, a weak mobile link): one
#: that comes slower only holds a connection, as a slow-loris attack does.
MIN_BODY_RATE = 8 * 1024

#: The content type of a form posted without files.
URLENCODED = "application/x-www-form-urlencoded"

#: The form's field naming a file held for it (:mod:`connectors.lapor.holding`) to send.
KEPT = "kept_evidence"

_T = TypeVar("_T")


@dataclass(frozen=True)
class FormBody:
    """A report form as posted: its text fields, its files, the held files it keeps."""

    fields: dict[str, str]
    uploads: list[Upload]
    kept: list[str]


@dataclass(frozen=True)
class BodyReader:
    """Reads bodies of at most ``max_bytes``, each given ``idle_seconds`` more than its size."""

    idle_seconds: float
    max_bytes: int

    async def in_time(self, request: web.Request, read: Awaitable[_T]) -> _T:
        """``read`` of the request's body, in the time its size takes at ``MIN_BODY_RATE``.

        Raises:
            IntakeRefusedError: 408, the body came slower.
        """
        size = request.content_length or self.max_bytes  # at most that (the portal's limit)
        try:
            async with asyncio.timeout(self.idle_seconds + size / MIN_BODY_RATE):
                return await read
        except TimeoutError:
            raise IntakeRefusedError(408, *refusals.TOO_SLOW) from None

    async def fields(self, request: web.Request) -> list[tuple[str, str | Upload]]:
        """The posted form's fields in order, each file read and its temporary file closed.

        Raises:
            ValueError: a field is not UTF-8 text, percent-encoded or not.
            aiohttp.http_exceptions.BadHttpMessage: a part's header is broken.
            IntakeRefusedError: 408, the body came too slowly.
        """
        if request.content_type == URLENCODED:
            body = await self.in_time(request, request.read())
            # Strict, where aiohttp's post() would turn a percent-encoded byte that is no
            # UTF-8 into U+FFFD and keep the field: a report would travel with its text changed.
            return list(parse_qsl(body.decode(), keep_blank_values=True, errors="strict"))
        fields: list[tuple[str, str | Upload]] = []
        for name, value in (await self.in_time(request, request.post())).items():
            if isinstance(value, FileField):
                with value.file:
                    fields.append((name, Upload(value.filename or "", value.file.read())))
            elif isinstance(value, str):
                fields.append((name, value))
        return fields

    async def form(self, request: web.Request) -> FormBody:
        """The text fields, files and kept files of the report form (see :meth:`fields`)."""
        body = FormBody({}, [], [])
        for name, value in await self.fields(request):
            if isinstance(value, Upload):
                if value.data or value.name:  # an empty file input sends an empty part
                    body.uploads.append(value)
            elif name == KEPT:  # one per file held for the form and left ticked
                body.kept.append(value)
            else:
                body.fields[name] = value
        # An unticked checkbox sends nothing: the reporter chose to give a name and contact.
        body.fields.setdefault("anonymous", "false")
        return body
