"""Whatever the public sends the reporting portal, it answers without failing.

The portal is the one address of the hub's world open to anyone. Generated requests to its
routes and to made-up ones: forms with known and unknown fields of any value, JSON reports
with fields of any type, multipart uploads with any file name and content, bodies that do not
match their ``Content-Type``, any language, and POSTs from another site. For each answer:

- no 5xx: what the portal cannot take is refused with a 4xx that says why;
- a refusal under ``/api/`` is JSON with its code (``error``), elsewhere a page in the
  reader's words;

and, after them all, the portal logged no error. A real SeaweedFS holds the evidence.
"""

from __future__ import annotations

import http.client
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.lapor.connector import LaporIntake
from tests.connectors.test_lapor_portal import opened_intake
from tests.fuzzing import fuzz_settings
from tests.lapor_support import CHAT_LOG, EXECUTABLE, multipart, png, report_fields, seaweed_s3

GET_PATHS = (
    "/",
    "/lapor",
    "/lacak",
    "/lacak/{code}",
    "/api/v1/tracking/{code}",
    "/health",
    "/static/track.js",
    "/static/form.js",
)
POST_PATHS = ("/lapor", "/lacak", "/api/v1/reports")
FIELDS = (*report_fields(), "reporter_name", "reporter_contact", "form_token", "code", "lang")
TEXT = st.text(max_size=80)
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
#: JSON values of any type, nested a little.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


@dataclass(frozen=True)
class Sent:
    """A request: method, path, headers and body."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LaporIntake]:
    """The portal on a real SeaweedFS, its rates high enough for every generated request."""
    with (
        seaweed_s3(tmp_path_factory.mktemp("fuzz-s3")) as location,
        opened_intake(
            location,
            tmp_path_factory.mktemp("fuzz-spool"),
            report_rate="100000/minute",
            track_rate="100000/minute",
        ) as connector,
    ):
        yield connector


def _form(draw: st.DrawFn) -> dict[str, str]:
    """Fields of a form: the complete report's, some changed, dropped or added."""
    fields = report_fields() if draw(st.booleans()) else {}
    for name in draw(st.lists(st.one_of(st.sampled_from(FIELDS), TEXT), max_size=5)):
        fields[name] = draw(TEXT)
    return fields


def _json_report(draw: st.DrawFn) -> bytes:
    """A JSON body: a report with fields of any type, or any JSON, or not JSON at all."""
    kind = draw(st.sampled_from(("report", "any", "broken")))
    if kind == "broken":
        return draw(st.binary(max_size=60))
    if kind == "any":
        return json.dumps(draw(JSON_VALUES)).encode()
    report: dict[str, Any] = dict(report_fields())
    for name in draw(st.lists(st.one_of(st.sampled_from(FIELDS), TEXT), max_size=4)):
        report[name] = draw(JSON_VALUES)
    if draw(st.booleans()):
        report["evidence"] = draw(JSON_VALUES)
    return json.dumps(report).encode()


@st.composite
def requests(draw: st.DrawFn) -> Sent:
    """A request to the portal."""
    code = draw(st.one_of(st.just("LPR-ABCD-EFGH"), TEXT))
    headers: dict[str, str] = {}
    if draw(st.booleans()):
        headers["Accept-Language"] = draw(st.one_of(st.sampled_from(("id", "en")), HEADER_TEXT))
    if draw(st.booleans()):  # another site's form, or a made-up origin
        headers["Origin"] = draw(st.one_of(st.just("https://example.org"), HEADER_TEXT))
    if draw(st.booleans()):
        path = draw(st.sampled_from(GET_PATHS))
        return Sent("GET", _quoted(path.replace("{code}", code)), headers, None)
    path = draw(st.one_of(st.sampled_from(POST_PATHS), TEXT.map(lambda text: "/" + text)))
    kind = draw(st.sampled_from(("form", "multipart", "json", "mismatched")))
    if kind == "form":
        body = "&".join(f"{_q(k)}={_q(v)}" for k, v in _form(draw).items()).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif kind == "multipart":
        files = draw(
            st.lists(
                st.tuples(TEXT, st.sampled_from((png(), CHAT_LOG, EXECUTABLE, b"", b"\xff" * 99))),
                max_size=3,
            )
        )
        body, headers["Content-Type"] = multipart(_form(draw), files)
    elif kind == "json":
        body, headers["Content-Type"] = _json_report(draw), "application/json"
    else:
        body = draw(st.binary(max_size=200))
        headers["Content-Type"] = draw(HEADER_TEXT)
    return Sent("POST", _quoted(path), headers, body)


def _q(text: str) -> str:
    return quote(text, safe="")


def _quoted(path: str) -> str:
    return quote(path, safe="/%")


def send(portal: LaporIntake, request: Sent) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of ``request`` to ``portal``."""
    connection = http.client.HTTPConnection("127.0.0.1", portal.config.listen_port, timeout=30)
    try:
        connection.request(request.method, request.path, request.body, request.headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


# aiohttp's own: a form whose part fails to parse (a file name with a line break, a field that
# is no UTF-8) after a file was spooled drops that file unclosed, for the collector to close.
# The portal closes every file it receives (tests/connectors/test_lapor_upload_files.py).
# And aiohttp warns of a part's header it cannot parse before it refuses the form (the portal
# answers 400 malformed_form); the tests' warnings-as-errors would turn that warning into a 500.
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <function SpooledTemporaryFile.__del__"
    ":pytest.PytestUnraisableExceptionWarning"
)
@pytest.mark.filterwarnings("ignore::aiohttp.multipart.BadContentDispositionHeader")
@pytest.mark.filterwarnings("ignore::aiohttp.multipart.BadContentDispositionParam")
def test_no_request_fails_the_portal(portal: LaporIntake, caplog: pytest.LogCaptureFixture) -> None:
    @fuzz_settings(300)
    @given(request=requests())
    def answered(request: Sent) -> None:
        status, headers, body = send(portal, request)
        assert status < 500, (request, status, body[:300])
        if status >= 400:
            media = headers.get("Content-Type", "")
            if request.path.startswith("/api/"):
                assert media.startswith("application/json"), (request, status, media)
                assert json.loads(body)["error"], body  # the portal's reason code
            else:
                assert media.startswith("text/html"), (request, status, media)

    with caplog.at_level(logging.WARNING):
        answered()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
