"""The reporting portal answers a request it cannot parse in its own refusal, quoting nothing.

The portal is the hub's one address open to anyone; aiohttp's own 400 would echo the bytes sent
(a header's first hundred or so) in plain text without the portal's headers. Over raw sockets,
against the real portal on a real SeaweedFS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from connectors.lapor.connector import LaporIntake
from connectors.lapor.refusals import MALFORMED as MALFORMED_WORDS
from tests.connectors.test_lapor_portal import opened_intake
from tests.lapor_support import seaweed_s3
from tests.web.test_malformed_answers import MALFORMED, MARKER, exchange


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LaporIntake]:
    """The portal on a real SeaweedFS."""
    with (
        seaweed_s3(tmp_path_factory.mktemp("malformed-s3")) as location,
        opened_intake(location, tmp_path_factory.mktemp("malformed-spool")) as connector,
    ):
        yield connector


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_a_malformed_request_is_refused_in_the_portals_words(
    portal: LaporIntake, kind: str
) -> None:
    url = f"http://127.0.0.1:{portal.config.listen_port}"
    status, headers, body = exchange(url, MALFORMED[kind])
    assert status.split(" ")[1] == "400", status
    assert headers["Content-Type"].startswith("application/json")
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    refusal = json.loads(body)
    assert refusal == {"error": "malformed_request", "message": MALFORMED_WORDS[1], "problems": []}
    assert MARKER.encode() not in body
