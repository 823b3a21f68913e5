"""Reading a request's body at the pace a weak link allows: bytes, or a form's fields and files.

A body that comes too slowly, or stalls, only holds a connection, as a slow-loris attack
does: it is refused (:mod:`connectors.lapor.pacing`), and the body is read no further. A
form's parts are read here rather than by aiohttp's ``post()``, which leaves the temporary
file of a file part cut off mid-way to the garbage collector: each file is read whole into
memory (the request's size is bounded, :class:`~connectors.lapor.portal_settings.PortalSettings`,
and the portal reads every file whole anyway), so no copy of a reporter's evidence is left
behind in a temporary file.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import BadHttpMessage

from connectors.lapor.intake import Upload
from connectors.lapor.pacing import SlowBodies, paced

#: The content type of a form posted without files.
URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"

#: The most parts a form may have (the report form has about 20, and a few files).
MAX_PARTS = 100

#: Largest body of the tracking-code form (a code has at most 64 characters).
CODE_FORM_BYTES = 4096

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
    """Reads bodies, each watched after a grace of ``idle_seconds`` (:mod:`~.pacing`)."""

    idle_seconds: float
    max_bytes: int
    """The largest body taken (the portal's limit), also when no size is declared."""
    source: Callable[[web.Request], str]
    """Who sent a request, for its share of the slow bodies' slots."""
    slow: SlowBodies = field(default_factory=SlowBodies)

    async def in_time(self, request: web.Request, read: Awaitable[_T]) -> _T:
        """``read`` of the request's body, refused if it comes too slowly or stalls.

        Raises:
            IntakeRefusedError: 408 ``too_slow``, 503 ``slow_busy`` (:func:`~.pacing.paced`).
        """
        content = request.content
        size = min(request.content_length or self.max_bytes, self.max_bytes)
        return await paced(
            read,
            lambda: content.total_bytes,
            size,
            self.idle_seconds,
            self.slow,
            self.source(request),
        )

    async def fields(self, request: web.Request) -> list[tuple[str, str | Upload]]:
        """The posted form's fields in order, each file read whole.

        Raises:
            ValueError: a field is not UTF-8 text, percent-encoded or not.
            aiohttp.http_exceptions.BadHttpMessage: a part's header is broken.
            IntakeRefusedError: 408 or 503, the body came too slowly (:meth:`in_time`).
        """
        if request.content_type == URLENCODED:
            body = await self.in_time(request, request.read())
            # Strict, where aiohttp's post() would turn a percent-encoded byte that is no
            # UTF-8 into U+FFFD and keep the field: a report would travel with its text changed.
            return list(parse_qsl(body.decode(), keep_blank_values=True, errors="strict"))
        if request.content_type == MULTIPART:
            return await self.in_time(request, self._parts(request))
        return []  # as aiohttp's post(): a body of another type (JSON, say) holds no form field

    async def code_field(self, request: web.Request) -> str | None:
        """The tracking-code form's ``code``; None for a form too large, not UTF-8 or broken.

        Raises:
            IntakeRefusedError: 408 or 503, the body came too slowly (:meth:`in_time`).
        """
        if (request.content_length or CODE_FORM_BYTES + 1) > CODE_FORM_BYTES:
            return None
        try:
            fields = await self.fields(request)
        except (ValueError, BadHttpMessage):
            return None
        return next((str(value) for name, value in fields if name == "code"), "")

    async def _parts(self, request: web.Request) -> list[tuple[str, str | Upload]]:
        """A ``multipart/form-data`` body's fields, as aiohttp's ``post()`` reads them.

        A part with a file name is a file; one without (an empty file input's) is text.
        """
        fields: list[tuple[str, str | Upload]] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                raise ValueError("a part is nested or has no name")
            if len(fields) >= MAX_PARTS:
                raise web.HTTPRequestEntityTooLarge(self.max_bytes, self.max_bytes + 1)
            data = bytearray()
            while chunk := await part.read_chunk():
                if request.content.total_bytes > self.max_bytes:
                    raise web.HTTPRequestEntityTooLarge(self.max_bytes, self.max_bytes + 1)
                data.extend(chunk)
            value = b"".join([piece async for piece in part.decode_iter(bytes(data))])
            if part.filename:
                fields.append((part.name, Upload(part.filename, value)))
            else:  # strict: a field that is no UTF-8 is refused, not changed
                fields.append((part.name, value.decode(part.get_charset(default="utf-8"))))
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
