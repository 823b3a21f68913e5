"""No case read tells an institution whether a case it may not read exists.

Case ids are UUIDv5 of a reporting institution and its case number, and numbers run in
sequence: a 404 for an unknown id beside a 403 for another's case would let any institution
count an office's reports. Over real HTTP against the session's hub, each case read answers a
non-party the same bytes for an existing case and for a random id; readers shown every case
(an operator, BKN) still learn that an unknown case does not exist.
"""

from __future__ import annotations

import uuid

import pytest

from streams.domain.principals import PrincipalRole
from tests.hubtools import RunningHub, http_request, problem_of

#: Each case read, its path for a case id.
READS = {
    "page": "/cases/{}",
    "trail": "/cases/{}/trail",
    "proof": "/cases/{}/proof",
    "access_log": "/access-log?case={}",
}
#: The statuses of a case read that sees the case: a proof of an entry no head covers yet is 409.
SEEN = (200, 409)


@pytest.fixture(scope="module")
def case_id(hub: RunningHub) -> str:
    """A referred case of bawaslu.33, reported now: BKN's period, not KASN's."""
    return hub.open_case("bawaslu.33")


def _answer(hub: RunningHub, read: str, case: str, token: str) -> tuple[int, str, bytes]:
    status, headers, body = http_request(hub.base_url + READS[read].format(case), token)
    return status, headers.get("Content-Type", ""), body


@pytest.mark.parametrize("read", sorted(READS))
@pytest.mark.parametrize("outsider", ["kasn", "kemenpanrb"])
def test_a_non_party_cannot_tell_an_existing_case_from_an_unknown_one(
    hub: RunningHub, case_id: str, read: str, outsider: str
) -> None:
    token = hub.token(outsider).secret
    existing = _answer(hub, read, case_id, token)
    unknown = _answer(hub, read, str(uuid.uuid4()), token)
    assert existing == unknown
    status, content_type, body = existing
    found = problem_of(status, {"Content-Type": content_type}, body)
    assert (status, found["reason"]) == (403, "not_entitled")
    assert case_id not in found["detail"]
    assert "does not exist, or" in found["detail"]


@pytest.mark.parametrize("read", sorted(READS))
def test_a_party_to_some_cases_is_refused_an_unknown_one(
    hub: RunningHub, case_id: str, read: str
) -> None:
    token = hub.token("inspektorat.3374").secret  # party to the cases of its region only
    status, content_type, body = _answer(hub, read, str(uuid.uuid4()), token)
    found = problem_of(status, {"Content-Type": content_type}, body)
    assert (status, found["reason"]) == (403, "not_entitled")
    assert _answer(hub, read, case_id, token)[0] in SEEN


def test_a_ministry_is_told_when_it_becomes_party_whatever_the_id(
    hub: RunningHub, case_id: str
) -> None:
    token = hub.token("kemenpanrb").secret
    _, content_type, body = _answer(hub, "trail", str(uuid.uuid4()), token)
    assert (
        "deadlines was breached" in problem_of(403, {"Content-Type": content_type}, body)["detail"]
    )


@pytest.mark.parametrize("read", sorted(READS))
@pytest.mark.parametrize("reader", ["operator", "bkn"])
def test_a_reader_shown_every_case_learns_that_one_does_not_exist(
    hub: RunningHub, case_id: str, read: str, reader: str
) -> None:
    role = PrincipalRole.OPERATOR if reader == "operator" else PrincipalRole.INSTITUTION
    token = hub.token("ops.ana" if reader == "operator" else "bkn", role).secret
    status, content_type, body = _answer(hub, read, str(uuid.uuid4()), token)
    assert status == 404
    if read == "page":  # a page for people
        assert content_type.startswith("text/html")
        return
    assert problem_of(status, {"Content-Type": content_type}, body)["reason"] == "no_such_case"
    assert _answer(hub, read, case_id, token)[0] in SEEN
