"""What a ministry reads on the real hub: the cases whose deadlines were breached.

KemenPAN-RB and Kemendagri receive every DeadlineBreached; they are party to a case only from
its first breach (:mod:`streams.domain.parties`). Every read of a case whose clocks held is a
403 ``not_entitled`` that says why; a breached case reads like any party's without a
personal-data grant: its trail, page, proof and access log, with nothing personal. So does
``kawal case trail --as``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

from streams.audit.trail import WITHHELD
from streams.domain.principals import PrincipalRole
from tests.hubtools import RunningHub, http_request, problem_of

MINISTRIES = ("kemendagri", "kemenpanrb")
#: Values of the cases' personal-data fields (tests.hubtools.report).
PERSONAL = ("Test Reporter", "Test Subject", "198501012010011001")
#: A case's reads, by the path after its id; the access log's takes it as a filter.
CASE_READS = ("/cases/{}", "/cases/{}/trail", "/cases/{}/proof", "/access-log?case={}")


@dataclass(frozen=True)
class Cases:
    """A referred case whose clocks hold, and one whose follow-up deadline was breached."""

    held: str
    breached: str
    operator: str


@pytest.fixture(scope="module")
def cases(hub: RunningHub) -> Cases:
    held, breached = hub.open_case(), hub.ignored_case()
    assert hub.wait_trail(breached, 6)[5].event_type == "DeadlineBreached"
    assert "DeadlineBreached" not in {row.event_type for row in hub.store.trail(held)}
    return Cases(held, breached, hub.token("ops.ana", PrincipalRole.OPERATOR).secret)


@pytest.mark.parametrize("ministry", MINISTRIES)
def test_a_ministry_reads_no_case_whose_deadlines_held(
    hub: RunningHub, cases: Cases, ministry: str
) -> None:
    token = hub.token(ministry).secret
    details = {}
    for read in CASE_READS:
        status, headers, body = http_request(f"{hub.base_url}{read.format(cases.held)}", token)
        problem = problem_of(status, headers, body)
        assert (status, problem["reason"]) == (403, "not_entitled"), read
        assert f"or {ministry} is not party to it" in problem["detail"], read
        details[read] = problem["detail"]
    # Each says why: no deadline of the case was breached.
    why = "a ministry is party to a case only once one of its deadlines was breached"
    assert [read for read, detail in details.items() if why in detail] == list(CASE_READS)


@pytest.mark.parametrize("ministry", MINISTRIES)
def test_a_ministry_reads_a_breached_case_without_personal_data(
    hub: RunningHub, cases: Cases, ministry: str
) -> None:
    token = hub.token(ministry).secret
    answers = {}
    for read in CASE_READS:
        path = read.format(cases.breached)
        status, _, body = http_request(f"{hub.base_url}{path}", token)
        operator_status, _, _ = http_request(f"{hub.base_url}{path}", cases.operator)
        answers[read] = (status, operator_status)
        assert not any(value.encode() in body for value in PERSONAL), read
    # The proof is the operator's answer too (409 until a signed head covers the breach).
    assert answers == {read: (answer[1], answer[1]) for read, answer in answers.items()}
    assert {read: answer[0] for read, answer in answers.items() if "proof" not in read} == {
        read: 200 for read in CASE_READS if "proof" not in read
    }

    status, _, body = http_request(f"{hub.base_url}/cases/{cases.breached}/trail", token)
    trail = json.loads(body)
    assert (trail["view"], trail["verified"]) == (ministry, True)
    assert [entry["event_type"] for entry in trail["entries"]][5] == "DeadlineBreached"
    assert trail["entries"][0]["fields"]["reporter_identity"] == WITHHELD


def test_the_front_page_lists_a_ministry_its_breached_cases_only(
    hub: RunningHub, cases: Cases
) -> None:
    for ministry in MINISTRIES:
        status, _, body = http_request(f"{hub.base_url}/", hub.token(ministry).secret)
        assert status == 200
        listed = {
            case_id: f'data-case="{case_id}"'.encode() in body
            for case_id in (cases.held, cases.breached)
        }
        assert listed == {cases.held: False, cases.breached: True}, ministry


def test_kawal_case_trail_as_a_ministry_shows_the_breached_case_only(
    hub: RunningHub, cases: Cases
) -> None:
    env = dict(os.environ, KAWAL_AUDIT_DB_URL=hub.store.url, KAWAL_HOME=str(hub.home))

    def trail(case_id: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "streams.cli", "case", "trail", case_id]
        command += ["--as", "kemendagri", "--json"]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    refused = trail(cases.held)
    assert refused.returncode == 5, refused.stderr
    assert "only once one of its deadlines was breached" in refused.stderr
    shown = trail(cases.breached)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["view"] == "kemendagri"
    assert not any(value in shown.stdout for value in PERSONAL)
