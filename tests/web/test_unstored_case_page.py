"""The page of a case the hub accepted before the audit sink stored it.

The front page lists a case as soon as the worker has accepted it; the sink stores its trail a
moment later (longer when the sink is slow or down). Its page says the case is being recorded,
503 with ``Retry-After``, rather than that no such case exists, and shows the trail once stored.
"""

from __future__ import annotations

import time
import uuid

from streams.domain.principals import PrincipalRole
from tests.freezing import freeze, thaw
from tests.hubtools import RunningHub, http_request, report

#: Generous for a loaded machine: the worker accepts a report in milliseconds when idle.
DEADLINE_SECONDS = 120.0


def _page_until(
    hub: RunningHub, case_id: str, token: str, left: int
) -> tuple[int, dict[str, str], bytes]:
    """The case page once its status is no longer ``left`` (or the deadline passed)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        status, headers, body = http_request(f"{hub.base_url}/cases/{case_id}", token)
        if status != left or time.monotonic() > deadline:
            return status, headers, body
        time.sleep(0.2)


def test_a_case_accepted_but_not_stored_is_being_recorded_not_unknown(hub: RunningHub) -> None:
    operator = hub.operator_token()
    every_case = hub.token("bpasn", PrincipalRole.INSTITUTION).secret  # the appeals body
    outsider = hub.token("kasn", PrincipalRole.INSTITUTION).secret
    record = report()
    case_id = record["envelope"]["case_id"]
    pid = hub.sink.pid
    assert pid is not None
    freeze(pid)  # the sink stores nothing until it is resumed
    try:
        hub.publish("ReportReceived", record)
        recording = _page_until(hub, case_id, operator, left=404)
        not_party = http_request(f"{hub.base_url}/cases/{case_id}", outsider)
        unknown = http_request(f"{hub.base_url}/cases/{uuid.uuid4()}", outsider)
        party, _, _ = http_request(f"{hub.base_url}/cases/{case_id}", every_case)
    finally:
        thaw(pid)
    stored, _, _ = _page_until(hub, case_id, operator, left=503)

    status, headers, body = recording
    assert status == 503
    assert headers["Retry-After"] == "5"
    assert "Kasus sedang dicatat" in body.decode()
    assert case_id in body.decode()
    # An institution party to every case sees it being recorded; one not party to it learns
    # nothing of it: refused as for a case that does not exist.
    assert party == 503
    assert not_party[0] == 403
    assert (not_party[0], not_party[2]) == (unknown[0], unknown[2])
    assert stored == 200
