"""Whatever a client sends, the hub's HTTP server answers it without failing or leaking.

Generated requests to every documented route and to made-up ones: any method, known and
unknown query parameters with any value (percent-encodings that are not UTF-8 included), any
credential (valid tokens of an institution and an operator, made-up ones, other schemes), and
the conditional and content headers browsers send. For each answer:

- no 5xx: a request the server cannot serve is the client's to correct, said with a 4xx;
- an error is an RFC 9457 problem document with a reason code, or the HTML page that says it;
- a reader with no valid credential never receives a case's personal data;

and, after them all, the worker logged no error and no traceback.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzzing import fuzz_settings
from tests.hubtools import RunningHub

#: Each documented route, its case id and figure as ``{case}`` and ``{figure}``.
ROUTES = (
    "/",
    "/cases/{case}",
    "/cases/{case}/trail",
    "/cases/{case}/proof",
    "/access-log",
    "/triage",
    "/register",
    "/dashboard",
    "/dashboard/figures.json",
    "/dashboard/figures.csv",
    "/dashboard/{figure}.csv",
    "/dashboard/{figure}.svg",
    "/readyz",
    "/health",
    "/livez",
    "/metrics",
)
FIGURES = ("counts", "handling_times", "violation_ratio", "follow_up", "catatan_merah")
PARAMETERS = (
    "election",
    "region",
    "agency",
    "from",
    "to",
    "lang",
    "format",
    "case",
    "as",
    "since",
    "until",
    "institution",
    "field",
    "sort",
)
METHODS = ("GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
#: Printable ASCII: what a header value may carry through the client.
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
#: Raw characters of a path segment or query value, percent signs and non-ASCII included.
RAW = st.text(
    st.one_of(
        st.sampled_from("%%%0123456789abcdefABCDEF-_.~+/;,=&?#"),
        st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="#?& "),
        st.characters(min_codepoint=0xA0, max_codepoint=0x2FFF),
    ),
    max_size=40,
)
#: The personal data of the case the requests may name (tests.hubtools.report).
PERSONAL = (b"198501012010011001", b"Test Subject", b"Test Reporter")


@dataclass(frozen=True)
class Credentials:
    """Bearer tokens the requests may carry: an entitled institution's and an operator's."""

    institution: str
    operator: str


@dataclass(frozen=True)
class Sent:
    """A request and whether it carried a credential the hub may accept."""

    method: str
    url: str
    headers: dict[str, str]
    authenticated: bool


@pytest.fixture(scope="module")
def case_and_credentials(hub: RunningHub) -> tuple[str, Credentials]:
    """A referred case in the store, and tokens of its supervisor and of an operator."""
    case_id = hub.open_case()
    hub.wait_trail(case_id, 4)
    tokens = Credentials(hub.token("bawaslu.33").secret, hub.operator_token())
    return case_id, tokens


@st.composite
def requests(draw: st.DrawFn, base: str, case_id: str, tokens: Credentials) -> Sent:
    """A request to the hub at ``base``: route, query, credential and headers drawn."""
    route = draw(st.one_of(st.sampled_from(ROUTES), RAW.map(lambda raw: "/" + raw)))
    case = draw(st.one_of(st.just(case_id), st.just(str(uuid.uuid4())), RAW))
    figure = draw(st.one_of(st.sampled_from(FIGURES), RAW))
    path = route.replace("{case}", case).replace("{figure}", figure)
    pairs = draw(
        st.lists(
            st.tuples(st.one_of(st.sampled_from(PARAMETERS), RAW), RAW),
            max_size=4,
        )
    )
    query = "&".join(f"{_raw(name)}={_raw(value)}" for name, value in pairs)
    headers: dict[str, str] = {}
    credential = draw(
        st.sampled_from(("none", "institution", "operator", "made-up", "other-scheme", "raw"))
    )
    if credential == "institution":
        headers["Authorization"] = f"Bearer {tokens.institution}"
    elif credential == "operator":
        headers["Authorization"] = f"Bearer {tokens.operator}"
    elif credential == "made-up":
        headers["Authorization"] = "Bearer " + draw(HEADER_TEXT)
    elif credential == "other-scheme":
        headers["Authorization"] = "Basic " + draw(HEADER_TEXT)
    elif credential == "raw":
        headers["Authorization"] = draw(HEADER_TEXT)
    for name in ("Accept", "Accept-Language", "If-None-Match", "If-Modified-Since", "Range"):
        if draw(st.booleans()):
            headers[name] = draw(
                st.one_of(
                    HEADER_TEXT,
                    st.sampled_from(("text/html", "application/json", "text/csv", "*/*")),
                )
            )
    url = base + _raw(path) + (f"?{query}" if query else "")
    method = draw(st.sampled_from(METHODS))
    return Sent(method, url, headers, credential in ("institution", "operator"))


def _raw(text: str) -> str:
    """``text`` for a URL: non-ASCII percent-encoded as UTF-8, percent signs left as drawn."""
    return urllib.parse.quote(text, safe="%/;,=+-_.~:@!$'()*")


def assert_problem(status: int, headers: dict[str, str], body: bytes) -> None:
    """An RFC 9457 problem document of ``status`` with a reason code (extension members too)."""
    assert headers.get("Content-Type", "").startswith("application/problem+json"), headers
    found = json.loads(body)
    assert {"type", "title", "status", "detail", "reason"} <= set(found), found
    assert (found["status"], found["type"]) == (status, f"urn:kawal:problem:{found['reason']}")


def send(request: Sent) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of ``request`` (error answers included)."""
    body = b"x=1" if request.method in ("POST", "PUT", "PATCH") else None
    sent = urllib.request.Request(
        request.url, data=body, headers=request.headers, method=request.method
    )
    try:
        with urllib.request.urlopen(sent, timeout=30) as response:
            return int(response.status), dict(response.headers), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), dict(exc.headers), bytes(exc.read())


def test_no_request_fails_the_server_or_reaches_personal_data_without_a_credential(
    hub: RunningHub, case_and_credentials: tuple[str, Credentials]
) -> None:
    case_id, tokens = case_and_credentials
    log_before = hub.worker.log_path.read_text(errors="replace")

    @fuzz_settings(400)
    @given(request=requests(hub.base_url, case_id, tokens))
    def answered(request: Sent) -> None:
        status, headers, body = send(request)
        assert status < 500, (request, status, body[:300])
        if status >= 400 and request.method != "HEAD":
            if headers.get("Content-Type", "").startswith("text/html"):
                assert b"<html" in body.lower()
            else:
                assert_problem(status, headers, body)
        if not request.authenticated:
            assert not any(value in body for value in PERSONAL), (request, status)

    answered()
    logged = hub.worker.log_path.read_text(errors="replace")[len(log_before) :]
    assert "Traceback" not in logged
    assert "Error handling request" not in logged
    assert "unexpected" not in logged.lower()
