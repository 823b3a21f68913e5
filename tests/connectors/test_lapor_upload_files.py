"""The parts of a posted form, read as the portal reads them, with no temporary file.

aiohttp's ``post()`` spools each uploaded file to a temporary file (on disk past 1 MiB) and
leaves closing it to the application, and to the garbage collector when the body is cut off
mid-file (a slow body refused). The portal reads the parts itself, each file into memory.
The form is read here from a request built in this process.
"""

from __future__ import annotations

import asyncio
from unittest import mock

import pytest
from aiohttp import StreamReader
from aiohttp.test_utils import make_mocked_request

from connectors.lapor.bodies import BodyReader
from connectors.lapor.intake import Upload
from tests.lapor_support import CHAT_LOG, multipart, png, report_fields


def read_form(body: bytes, content_type: str) -> list[tuple[str, str | Upload]]:
    bodies = BodyReader(idle_seconds=5.0, max_bytes=1 << 20, source=lambda request: "test")

    async def post() -> list[tuple[str, str | Upload]]:
        stream = StreamReader(
            mock.Mock(_reading_paused=False), 1 << 16, loop=asyncio.get_running_loop()
        )
        stream.feed_data(body)
        stream.feed_eof()
        headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
        request = make_mocked_request("POST", "/lapor", headers=headers, payload=stream)
        return await bodies.fields(request)

    return asyncio.run(post())


def test_every_field_and_file_of_a_posted_form_is_read() -> None:
    fields = report_fields()
    body, content_type = multipart(fields, [("foto.png", png()), ("obrolan.txt", CHAT_LOG)])

    read = read_form(body, content_type)

    assert [(name, value) for name, value in read if isinstance(value, str)] == list(fields.items())
    uploads = [value for _, value in read if isinstance(value, Upload)]
    assert [(upload.name, upload.data) for upload in uploads] == [
        ("foto.png", png()),
        ("obrolan.txt", CHAT_LOG),
    ]


def test_an_empty_file_input_is_an_empty_text_part() -> None:
    body, content_type = multipart({"summary": "x"}, [("", b"")])

    assert read_form(body, content_type) == [("summary", "x"), ("evidence", "")]


def test_a_text_field_that_is_no_utf8_is_refused() -> None:
    body, content_type = multipart({"summary": "x"}, [])
    body = body.replace(b"\r\n\r\nx\r\n", b"\r\n\r\n\xff\xfe\r\n")

    with pytest.raises(UnicodeDecodeError):  # malformed_form (a ValueError), not U+FFFD kept
        read_form(body, content_type)
