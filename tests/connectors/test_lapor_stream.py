"""A tracking page's stream stays open and sends each new step of the case as it is noted.

Before, the stream's second look at the store took the code and case pair for the case, failed
on it a second after opening, and only the browser's reconnecting made the page look live (each
reconnect sending every step again, each failure a traceback in the log).
"""

from __future__ import annotations

import http.client
import time
from datetime import UTC, datetime

from connectors.lapor.connector import LaporIntake
from connectors.lapor.tracking import TrackingStore
from tests.connectors.test_lapor_portal import post_json
from tests.lapor_support import report_fields

#: Several of the stream's looks at the store (one a second).
WAIT_SECONDS = 20.0


def test_a_step_noted_while_the_stream_is_open_arrives_on_it(intake: LaporIntake) -> None:
    _, answer = post_json(intake, report_fields())
    tracking = TrackingStore(intake.config.spool_dir)
    followed = tracking.follow(answer["tracking_code"])
    assert followed is not None
    connection = http.client.HTTPConnection("127.0.0.1", intake.config.listen_port, timeout=30)
    try:
        connection.request("GET", answer["status_url"] + "/events")
        response = connection.getresponse()
        first = _next_event(response)
        time.sleep(2.5)  # the stream looks again twice and finds nothing new
        tracking.record(followed.case_id, 2, "registered", datetime.now(UTC))
        second = _next_event(response)
    finally:
        connection.close()
        tracking.close()

    assert first.startswith("event: steps\n")
    assert "Laporan diregistrasi" not in first
    assert second.startswith("event: steps\n")
    assert "Laporan diregistrasi" in second


def _next_event(response: http.client.HTTPResponse) -> str:
    """The next event of the stream (heartbeat comments skipped); fails if the stream ends."""
    deadline = time.monotonic() + WAIT_SECONDS
    text = b""
    while time.monotonic() < deadline:
        chunk = response.read1(4096)
        assert chunk, f"the stream ended; it had sent {text!r}"
        text += chunk
        while b"\n\n" in text:
            event, text = text.split(b"\n\n", 1)
            if not event.startswith(b":"):
                return event.decode() + "\n\n"
    raise AssertionError(f"no event within {WAIT_SECONDS:g} s")
