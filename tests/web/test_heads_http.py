"""``GET /heads`` and ``GET /heads/consistency`` on the real hub: an auditor without Kafka
keeps the signed heads and checks that a later one extends them; every malformed or
unanswerable ask has its reason.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from typing import Any

import pytest

from streams.audit.tokens import TOKEN_PREFIX
from streams.domain.keys import load_key_registry
from streams.domain.merkle import verify_consistency
from streams.domain.tree_heads import SignedTreeHead, extension_problem, signature_problem
from streams.settings import Settings
from tests.hubtools import RunningHub, http_request, problem_of
from tests.web.openapi_spec import check_body

#: The longest wait for the audit sink to sign a head over a new entry.
HEAD_WAIT_SECONDS = 60.0


def get(hub: RunningHub, path: str, token: str | None = None) -> tuple[int, Any]:
    """The status and the body (or the problem's reason), anonymous unless ``token`` says."""
    status, headers, body = http_request(f"{hub.base_url}{path}", token)
    if status == 200:
        found = json.loads(body)
        check_body(path.split("?", 1)[0], 200, "application/json", found)
        return status, found
    check_body(path.split("?", 1)[0], status, "application/problem+json", json.loads(body))
    return status, problem_of(status, headers, body)["reason"]


def all_heads(hub: RunningHub) -> list[SignedTreeHead]:
    status, page = get(hub, "/heads?limit=1000")
    assert status == 200
    return [SignedTreeHead.from_json(json.dumps(head)) for head in page["heads"]]


def head_over_more_than(hub: RunningHub, size: int) -> SignedTreeHead:
    """A case opened, then the first head over more than ``size`` leaves."""
    hub.open_case("bawaslu.33")
    deadline = time.monotonic() + HEAD_WAIT_SECONDS
    while time.monotonic() < deadline:
        newer = [head for head in all_heads(hub) if head.tree_size > size]
        if newer:
            return newer[-1]
        time.sleep(0.5)
    raise AssertionError(f"no head over more than {size} leaves in time")


@pytest.fixture(scope="module")
def kept(hub: RunningHub) -> tuple[SignedTreeHead, SignedTreeHead]:
    """Two heads an auditor kept, the second signed after more entries were stored."""
    first = head_over_more_than(hub, 0)
    return first, head_over_more_than(hub, first.tree_size)


def test_heads_are_public_signed_by_the_hub_and_each_extends_the_one_before(
    hub: RunningHub, kept: tuple[SignedTreeHead, SignedTreeHead]
) -> None:
    heads = all_heads(hub)  # without a credential
    keys = load_key_registry(Settings(home=hub.home).key_registry_file)

    assert set(kept) <= set(heads)
    assert [head.tree_size for head in heads] == sorted({head.tree_size for head in heads})
    assert [signature_problem(head, keys) for head in heads] == [None] * len(heads)
    assert [extension_problem(a, b) for a, b in itertools.pairwise(heads)] == [None] * (
        len(heads) - 1
    )


def test_heads_are_read_page_by_page(
    hub: RunningHub, kept: tuple[SignedTreeHead, SignedTreeHead]
) -> None:
    first, _ = kept
    status, page = get(hub, f"/heads?after={first.tree_size - 1}&limit=1")
    assert status == 200
    assert [head["tree_size"] for head in page["heads"]] == [first.tree_size]
    assert page["next_after"] == first.tree_size
    status, rest = get(hub, f"/heads?after={page['next_after']}", hub.token("kasn").secret)
    assert status == 200
    assert rest["heads"][0]["tree_size"] > first.tree_size


def test_a_later_head_is_proven_to_extend_the_kept_one(
    hub: RunningHub, kept: tuple[SignedTreeHead, SignedTreeHead]
) -> None:
    first, second = kept

    status, found = get(
        hub, f"/heads/consistency?first={first.tree_size}&second={second.tree_size}"
    )

    assert status == 200
    assert (found["first"], found["second"], found["verified"]) == (
        first.tree_size,
        second.tree_size,
        True,
    )
    proof = [bytes.fromhex(item) for item in found["consistency"]]
    # Checked against the roots the auditor kept, not those the answer carries.
    assert verify_consistency(
        first.tree_size, second.tree_size, first.root_hash, second.root_hash, proof
    )
    status, latest = get(hub, f"/heads/consistency?first={first.tree_size}")
    assert status == 200
    assert latest["second"] == all_heads(hub)[-1].tree_size >= second.tree_size
    assert latest["verified"] is True


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/heads?after=-1", (400, "bad_query")),
        ("/heads?limit=0", (400, "bad_query")),
        ("/heads?limit=1001", (400, "bad_query")),
        ("/heads?limit=1&limit=2", (400, "bad_query")),
        ("/heads?size=3", (400, "bad_query")),
        ("/heads?as=bkn", (400, "viewer_in_query")),
        ("/heads/consistency", (400, "bad_query")),
        ("/heads/consistency?first=abc", (400, "bad_query")),
        ("/heads/consistency?first=99999999", (400, "bad_query")),
        ("/heads/consistency?first=1&second=0", (400, "bad_query")),
        ("/heads/consistency?first=1&second=99999999", (404, "no_such_head")),
    ],
)
def test_a_malformed_or_unanswerable_ask_is_refused_with_its_reason(
    hub: RunningHub, kept: tuple[SignedTreeHead, SignedTreeHead], path: str, expected: Any
) -> None:
    assert get(hub, path) == expected


def test_a_bad_credential_is_refused_though_none_is_needed(hub: RunningHub) -> None:
    unknown = TOKEN_PREFIX + secrets.token_urlsafe(32)
    assert get(hub, "/heads", "not-a-token") == (401, "malformed_authorization")
    assert get(hub, "/heads/consistency?first=1", unknown) == (401, "unknown_token")
