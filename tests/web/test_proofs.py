"""``GET /cases/{case_id}/proof`` on the real hub: an institution proves an entry it holds in
a head it kept, without the operator; every malformed or unanswerable ask has its reason.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from streams.audit.tokens import TokenStore
from streams.audit.trail import Directory
from streams.domain.authority import load_authority_map
from streams.domain.institutions import load_institutions
from streams.domain.keys import load_key_registry
from streams.domain.merkle import leaf_hash, verify_inclusion
from streams.domain.principals import PrincipalRole
from streams.domain.tree_heads import SignedTreeHead, signature_problem
from streams.settings import Settings
from streams.web.case_audience import no_case_of_yours
from tests.hubtools import RunningHub, http_request, problem_of

#: Whom the hub knows, as the refusals name them.
DIRECTORY = Directory(load_institutions(), load_authority_map())
#: The longest wait for the audit sink to sign a head over a new entry.
HEAD_WAIT_SECONDS = 60.0


def get(hub: RunningHub, path: str, token: str | None = "") -> tuple[int, Any]:
    """The status and the proof (or the problem's reason); an operator's unless ``token`` says."""
    credential = hub.operator_token() if token == "" else token
    status, headers, body = http_request(f"{hub.base_url}{path}", credential)
    if status == 200:
        return status, json.loads(body)
    return status, problem_of(status, headers, body)["reason"]


@pytest.fixture(scope="module")
def proven(hub: RunningHub) -> tuple[str, dict[str, Any]]:
    """A case of bawaslu.33 and its newest entry's proof, once a signed head covers it."""
    case_id = hub.open_case("bawaslu.33")
    deadline = time.monotonic() + HEAD_WAIT_SECONDS
    while time.monotonic() < deadline:
        status, body = get(hub, f"/cases/{case_id}/proof")
        if status == 200:
            return case_id, body
        assert (status, body) == (409, "not_in_head")
        time.sleep(0.5)
    raise AssertionError("no signed head covered the case in time")


def test_the_proof_leads_from_the_entry_to_the_signed_root(
    hub: RunningHub, proven: tuple[str, dict[str, Any]]
) -> None:
    case_id, proof = proven
    head = SignedTreeHead.from_json(json.dumps(proof["head"]))

    assert proof["verified"] is True
    keys = load_key_registry(Settings(home=hub.home).key_registry_file)
    assert signature_problem(head, keys) is None  # signed by the hub
    assert head.root_hash.hex() == proof["root_hash"]
    assert verify_inclusion(
        proof["log_index"],
        head.tree_size,
        leaf_hash(bytes.fromhex(proof["hash"])),
        [bytes.fromhex(item) for item in proof["inclusion"]],
        head.root_hash,
    )
    # The entry is the one the trail shows as the case's newest.
    status, trail = get(hub, f"/cases/{case_id}/trail")
    assert status == 200
    assert trail["entries"][-1]["hash"] == proof["hash"]


def test_the_same_entry_is_proven_in_a_head_kept_before_and_by_its_seq(
    hub: RunningHub, proven: tuple[str, dict[str, Any]]
) -> None:
    case_id, proof = proven
    kept = proof["tree_size"]

    status, again = get(hub, f"/cases/{case_id}/proof?seq={proof['seq']}&tree_size={kept}")

    assert status == 200
    assert (again["hash"], again["tree_size"], again["verified"]) == (proof["hash"], kept, True)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?seq=abc", (400, "bad_query")),
        ("?tree_size=0", (400, "bad_query")),
        ("?tree_size=-3", (400, "bad_query")),
        ("?tree_size=99999999999999999999999999", (400, "bad_query")),
        ("?seq=9223372036854775808", (400, "bad_query")),
        ("?as=bkn", (400, "viewer_in_query")),
        ("?seq=999", (404, "no_such_entry_or_head")),
        ("?tree_size=99999999", (404, "no_such_entry_or_head")),
    ],
)
def test_a_malformed_or_unanswerable_ask_is_refused_with_its_reason(
    hub: RunningHub, proven: tuple[str, dict[str, Any]], query: str, expected: tuple[int, str]
) -> None:
    case_id, _ = proven
    assert get(hub, f"/cases/{case_id}/proof{query}") == expected


def test_an_unknown_case_is_not_found(hub: RunningHub) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    assert get(hub, f"/cases/{unknown}/proof") == (404, "no_such_case")


def test_an_unknown_case_is_refused_as_a_known_one_to_a_reader_of_neither(hub: RunningHub) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    assert get(hub, f"/cases/{unknown}/proof", None) == (401, "authentication_required")
    # Nor does an institution learn it: a case it is not party to is refused, known or not,
    # in the same words, which tell the sender of a case not yet stored to ask again.
    kasn = hub.token("kasn").secret
    assert get(hub, f"/cases/{unknown}/proof", kasn) == (403, "not_entitled")
    status, headers, body = http_request(f"{hub.base_url}/cases/{unknown}/proof", kasn)
    detail = problem_of(status, headers, body)["detail"]
    assert detail == no_case_of_yours("kasn", DIRECTORY)


def test_only_the_readers_the_trail_answers_get_the_proof(
    hub: RunningHub, proven: tuple[str, dict[str, Any]]
) -> None:
    case_id, proof = proven
    revoked = hub.token("bkn")
    TokenStore(hub.store.engine).revoke(revoked.id, "lost laptop")
    tokens = {
        "none": None,
        "party": hub.token("bawaslu.33").secret,
        "another institution": hub.token("kasn").secret,
        "operator": hub.token("ops.ana", PrincipalRole.OPERATOR).secret,
        "expired": hub.token("bkn", expires_at=datetime.now(UTC) - timedelta(minutes=1)).secret,
        "revoked": revoked.secret,
        "unknown": "kawal_" + "0" * 40,
    }

    seen = {name: get(hub, f"/cases/{case_id}/proof", token)[0] for name, token in tokens.items()}

    trail = {name: get(hub, f"/cases/{case_id}/trail", token)[0] for name, token in tokens.items()}
    assert seen == trail
    assert seen == {
        "none": 401,
        "party": 200,
        "another institution": 403,
        "operator": 200,
        "expired": 401,
        "revoked": 401,
        "unknown": 401,
    }
    assert get(hub, f"/cases/{case_id}/proof", tokens["operator"])[1]["hash"] == proof["hash"]
