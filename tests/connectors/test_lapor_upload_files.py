"""The files of a posted form are closed once the portal has read them.

aiohttp spools each uploaded file to a temporary file (on disk past 1 MiB) and leaves closing
it to the application: left open, a reporter's evidence waited for the garbage collector.
The form is read here as the portal reads it, from a request built in this process.
"""

from __future__ import annotations

import asyncio
from unittest import mock

from aiohttp import StreamReader
from aiohttp.test_utils import make_mocked_request
from aiohttp.web_request import FileField

from connectors.lapor.bodies import BodyReader
from connectors.lapor.intake import Upload
from tests.lapor_support import CHAT_LOG, multipart, png, report_fields


def test_every_file_of_a_posted_form_is_closed_once_read() -> None:
    body, content_type = multipart(
        report_fields(), [("foto.png", png()), ("obrolan.txt", CHAT_LOG)]
    )
    bodies = BodyReader(idle_seconds=5.0, max_bytes=1 << 20)

    async def post() -> tuple[list[tuple[str, str | Upload]], list[FileField]]:
        stream = StreamReader(
            mock.Mock(_reading_paused=False), 1 << 16, loop=asyncio.get_running_loop()
        )
        stream.feed_data(body)
        stream.feed_eof()
        headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
        request = make_mocked_request("POST", "/lapor", headers=headers, payload=stream)
        fields = await bodies.fields(request)
        form = await request.post()  # what aiohttp parsed, kept by the request
        return fields, [value for value in form.values() if isinstance(value, FileField)]

    fields, spooled = asyncio.run(post())

    uploads = [value for _, value in fields if isinstance(value, Upload)]
    assert [(upload.name, upload.data) for upload in uploads] == [
        ("foto.png", png()),
        ("obrolan.txt", CHAT_LOG),
    ]
    assert len(spooled) == 2
    assert all(field.file.closed for field in spooled)
