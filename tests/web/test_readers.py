"""Authenticated readers on the real hub: every HTTP read by every kind of credential.

Each read is tried with no credential, another institution's token, an expired and a revoked
token, an operator's and the entitled institution's; the whole matrix of statuses and reason
codes is compared at once, then the access log rows the reads wrote.
"""

from __future__ import annotations

import http.client
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import text

from streams.audit.access_chain import verify_access_chain
from streams.audit.access_log import AccessLog
from streams.audit.tables import ApiToken, AuditRow, CaseHead
from streams.audit.tokens import TokenStore
from streams.audit.trail import WITHHELD
from streams.domain.keys import load_key_registry
from streams.domain.principals import PrincipalRole
from streams.settings import Settings
from tests.hubtools import RunningHub, http_request, problem_of

#: Values of the case's personal-data fields (tests.hubtools.report); never in a refusal or log.
PERSONAL = ("Test Reporter", "Test Subject", "198501012010011001")

CREDENTIALS = ("none", "other", "expired", "revoked", "operator", "entitled")
READS = ("overview", "case_page", "trail", "access_log", "case_access_log")

OK = (200, None)
EXPIRED = (401, "token_expired")
REVOKED = (401, "token_revoked")
NOT_ENTITLED = (403, "not_entitled")
NO_CREDENTIAL = (401, "authentication_required")

#: (status, reason) of every read and credential; None: no reason (accepted).
EXPECTED: dict[str, tuple[tuple[int, str | None], ...]] = {
    #              none  other  expired  revoked  operator  entitled
    "overview": (OK, OK, EXPIRED, REVOKED, OK, OK),
    "case_page": (NO_CREDENTIAL, NOT_ENTITLED, EXPIRED, REVOKED, OK, OK),
    "trail": (NO_CREDENTIAL, NOT_ENTITLED, EXPIRED, REVOKED, OK, OK),
    "access_log": (NO_CREDENTIAL, OK, EXPIRED, REVOKED, OK, OK),
    "case_access_log": (NO_CREDENTIAL, NOT_ENTITLED, EXPIRED, REVOKED, OK, OK),
}


@dataclass(frozen=True)
class Readers:
    """A referred case of bawaslu.33 (BKN entitled, KASN not) and a token of each kind."""

    case_id: str
    tokens: dict[str, str | None]
    entitled_token_id: str

    def path(self, read: str) -> str:
        return {
            "overview": "/",
            "case_page": f"/cases/{self.case_id}",
            "trail": f"/cases/{self.case_id}/trail",
            "access_log": "/access-log",
            "case_access_log": f"/access-log?case={self.case_id}",
        }[read]


@pytest.fixture(scope="module")
def readers(hub: RunningHub) -> Readers:
    case_id = hub.open_case("bawaslu.33")  # reported now: BKN's period, not KASN's
    revoked = hub.token("bkn")
    TokenStore(hub.store.engine).revoke(revoked.id, "lost laptop")
    entitled = hub.token("bkn")
    tokens = {
        "none": None,
        "other": hub.token("kasn").secret,
        "expired": hub.token("bkn", expires_at=datetime.now(UTC) - timedelta(minutes=1)).secret,
        "revoked": revoked.secret,
        "operator": hub.token("ops.ana", PrincipalRole.OPERATOR).secret,
        "entitled": entitled.secret,
    }
    return Readers(case_id, tokens, entitled.id)


def get(hub: RunningHub, path: str, token: str | None = None, **headers: str) -> Any:
    status, response_headers, body = http_request(f"{hub.base_url}{path}", token, headers)
    return status, response_headers, body


def outcome(status: int, headers: dict[str, str], body: bytes) -> tuple[int, str | None]:
    if status == 200:
        return status, None
    return status, problem_of(status, headers, body)["reason"]


def test_every_read_with_every_credential(hub: RunningHub, readers: Readers) -> None:
    seen: dict[str, tuple[tuple[int, str | None], ...]] = {}
    bodies: dict[tuple[str, str], bytes] = {}
    challenges: list[str] = []
    for read in READS:
        row = []
        for credential in CREDENTIALS:
            status, headers, body = get(hub, readers.path(read), readers.tokens[credential])
            row.append(outcome(status, headers, body))
            bodies[read, credential] = body
            if status == 401:
                challenges.append(headers.get("WWW-Authenticate", ""))
        seen[read] = tuple(row)

    assert seen == EXPECTED
    assert all(value.startswith('Bearer realm="kawal"') for value in challenges)
    assert sum('error="invalid_token"' in value for value in challenges) == 2 * len(READS)
    entitled = json.loads(bodies["trail", "entitled"])
    assert entitled["view"] == "bkn"
    assert entitled["entries"][0]["fields"]["reporter_identity"] == "Test Reporter"
    view = json.loads(bodies["trail", "operator"])
    assert view["view"] == "public"
    assert view["entries"][0]["fields"]["reporter_identity"] == WITHHELD
    # The front page lists the case to its parties and the operators only.
    listed = {
        credential: f'data-case="{readers.case_id}"'.encode() in bodies["overview", credential]
        for credential in ("none", "other", "operator", "entitled")
    }
    assert listed == {"none": False, "other": False, "operator": True, "entitled": True}
    assert b'id="cases-need-credential"' in bodies["overview", "none"]
    shown_elsewhere = [
        key for key, body in bodies.items() if key != ("trail", "entitled") and _personal(body)
    ]
    assert shown_elsewhere == []


def _personal(body: bytes) -> bool:
    return any(value.encode() in body for value in PERSONAL)


def test_the_access_log_has_the_entitled_read_only(hub: RunningHub, readers: Readers) -> None:
    log = AccessLog(hub.store.engine)
    before = len(log.entries([readers.case_id]))
    test_every_read_with_every_credential(hub, readers)
    rows = log.entries([readers.case_id])[before:]
    # One read of personal data in the matrix; nothing from the other readers.
    assert [(row.principal, row.role, row.credential) for row in rows] == [
        ("bkn", "institution", readers.entitled_token_id)
    ]
    assert {"reporter_identity", "subject_name", "subject_nip"} <= set(rows[0].fields)
    assert rows[0].path == f"/cases/{readers.case_id}/trail"
    assert not _personal(json.dumps([row.as_json() for row in rows]).encode())

    status, _, body = get(hub, f"/access-log?case={readers.case_id}", readers.tokens["entitled"])
    assert status == 200
    assert {read["principal"] for read in json.loads(body)["reads"]} == {"bkn"}
    status, _, body = get(hub, "/access-log", readers.tokens["other"])
    assert readers.case_id not in {read["case_id"] for read in json.loads(body)["reads"]}
    # The worker chained and signed each read with the hub's key.
    keys = load_key_registry(Settings(home=hub.home).key_registry_file)
    chain = verify_access_chain(hub.store.engine, keys)
    assert (chain.ok, chain.before_chain) == (True, 0)
    assert chain.chained >= len(rows)


def test_a_case_id_in_another_spelling_is_the_same_case(hub: RunningHub, readers: Readers) -> None:
    log = AccessLog(hub.store.engine)
    before = len(log.entries([readers.case_id]))
    entitled = readers.tokens["entitled"]
    spelled = "{" + readers.case_id.upper() + "}"

    status, _, body = get(hub, f"/cases/{readers.case_id.upper()}/trail", entitled)
    assert status == 200
    assert json.loads(body)["case_id"] == readers.case_id
    # The read is logged under the case's own id, where the institution looks for it.
    assert len(log.entries([readers.case_id])) == before + 1
    status, _, body = get(hub, f"/access-log?case={quote(spelled)}", entitled)
    assert status == 200
    assert {read["case_id"] for read in json.loads(body)["reads"]} == {readers.case_id}
    status, _, body = get(hub, "/access-log?case=LP-2024-001", entitled)
    assert (status, json.loads(body)["reason"]) == (400, "invalid_case")


@pytest.mark.parametrize(
    ("authorization", "reason", "error"),
    [
        ("Basic YnVuZ2E6c2VjcmV0", "malformed_authorization", "invalid_request"),
        ("Bearer not-a-token", "malformed_authorization", "invalid_request"),
        ("Bearer kawal_" + secrets.token_urlsafe(32), "unknown_token", "invalid_token"),
        ("Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln", "oidc_not_configured", "invalid_token"),
    ],
    # Named by reason: the unknown token is fresh in each run (and each test process).
    ids=["basic", "not-a-token", "unknown-token", "jwt-without-oidc"],
)
def test_a_bad_credential_is_refused_with_its_reason(
    hub: RunningHub, readers: Readers, authorization: str, reason: str, error: str
) -> None:
    status, headers, body = get(hub, readers.path("trail"), None, Authorization=authorization)

    assert (status, problem_of(status, headers, body)["reason"]) == (401, reason)
    assert f'error="{error}"' in headers["WWW-Authenticate"]


def test_a_token_of_an_institution_no_longer_registered_is_refused(
    hub: RunningHub, readers: Readers
) -> None:
    gone = hub.token("bawaslu.99")

    status, headers, body = get(hub, readers.path("trail"), gone.secret)

    assert (status, problem_of(status, headers, body)["reason"]) == (401, "unknown_institution")
    assert headers["WWW-Authenticate"].startswith('Bearer realm="kawal"')


@pytest.mark.parametrize("name", ["as", "AS", "As"])
def test_the_viewer_in_the_query_is_refused(hub: RunningHub, readers: Readers, name: str) -> None:
    path = f"{readers.path('trail')}?{name}=bkn"
    status, headers, body = get(hub, path, readers.tokens["entitled"])
    found = problem_of(status, headers, body)

    assert (status, found["reason"]) == (400, "viewer_in_query")
    assert "Bearer" in found["detail"]


def test_a_credential_in_the_query_is_refused_in_any_case(
    hub: RunningHub, readers: Readers
) -> None:
    path = f"{readers.path('trail')}?Access_Token={readers.tokens['entitled']}"
    status, headers, body = get(hub, path)

    assert (status, problem_of(status, headers, body)["reason"]) == (401, "credential_in_query")


def test_two_authorization_headers_are_refused(hub: RunningHub, readers: Readers) -> None:
    # A proxy that appends its credential to the client's: neither may be chosen silently.
    url = urlsplit(hub.base_url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    connection.putrequest("GET", readers.path("trail"))
    connection.putheader("Authorization", f"Bearer {readers.tokens['other']}")
    connection.putheader("Authorization", f"Bearer {readers.tokens['entitled']}")
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    found = problem_of(response.status, dict(response.getheaders()), body)

    assert (response.status, found["reason"]) == (401, "malformed_authorization")
    assert "exactly one" in found["detail"]
    assert readers.tokens["entitled"] not in found["detail"]


def test_personal_data_is_not_shown_when_its_read_cannot_be_logged(
    hub: RunningHub, readers: Readers
) -> None:
    with hub.store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE access_log RENAME TO access_log_away"))
    try:
        refused = get(hub, readers.path("trail"), readers.tokens["entitled"])
        public = get(hub, readers.path("trail"), readers.tokens["operator"])
    finally:
        with hub.store.engine.begin() as conn:
            conn.execute(text("ALTER TABLE access_log_away RENAME TO access_log"))

    assert (refused[0], problem_of(*refused)["reason"]) == (503, "access_log_unavailable")
    assert not _personal(refused[2])
    assert public[0] == 200


def test_a_trail_the_store_cannot_give_is_a_problem_not_a_crash(
    hub: RunningHub, readers: Readers
) -> None:
    # The store down (PostgreSQL stopped): a reader is told to come back, and the worker's log
    # gets no traceback per request.
    table, heads = AuditRow.__tablename__, CaseHead.__tablename__
    with hub.store.engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))
        conn.execute(text(f"ALTER TABLE {heads} RENAME TO {heads}_away"))
    try:
        answers = [
            get(hub, readers.path("trail"), readers.tokens[who]) for who in ("operator", "entitled")
        ]
        answers.append(get(hub, readers.path("case_page"), readers.tokens["operator"]))
        answers.append(get(hub, f"/cases/{readers.case_id}/proof", readers.tokens["operator"]))
        front = get(hub, "/", None)
    finally:
        with hub.store.engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {table}_away RENAME TO {table}"))
            conn.execute(text(f"ALTER TABLE {heads}_away RENAME TO {heads}"))

    assert front[0] in (200, 503)  # the front page may still be the one built before
    for status, headers, body in answers:
        found = problem_of(status, headers, body)
        assert (status, found["reason"]) == (503, "store_unavailable")
        assert "try again" in found["detail"]
    assert "Error handling request" not in hub.worker.log_tail(200)


def test_a_token_the_store_cannot_check_is_a_problem_not_a_crash(
    hub: RunningHub, readers: Readers
) -> None:
    # A store that is down answers no token lookup either (PostgreSQL stopped: the trail was
    # a 500 with a traceback): the reader is told to come back, with the trail's reason.
    tokens = ApiToken.__tablename__
    with hub.store.engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {tokens} RENAME TO {tokens}_away"))
    try:
        answers = [get(hub, readers.path(read), readers.tokens["entitled"]) for read in READS]
    finally:
        with hub.store.engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {tokens}_away RENAME TO {tokens}"))

    for status, headers, body in answers:
        found = problem_of(status, headers, body)
        assert (status, found["reason"]) == (503, "store_unavailable"), found
        assert "try again" in found["detail"]
        assert "WWW-Authenticate" not in headers
    assert "Error handling request" not in hub.worker.log_tail(200)


@pytest.mark.parametrize(
    "path",
    [
        "/table/",
        "/table/case-state/",
        "/table/case-state/{case_id}/",
        "/router/",
        "/router/case-state/{case_id}/",
    ],
)
def test_fausts_table_and_router_views_are_off(
    hub: RunningHub, readers: Readers, path: str
) -> None:
    status, _, body = get(hub, path.format(case_id=readers.case_id), readers.tokens["operator"])

    assert status == 404
    assert not _personal(body)


def test_each_refused_request_is_logged_with_what_finds_its_client(
    hub: RunningHub, readers: Readers
) -> None:
    """The runbook (KawalCredentialRefusalBurst) finds the token's owner and the client."""
    revoked = hub.token("bkn")
    TokenStore(hub.store.engine).revoke(revoked.id, "lost phone")
    secret_in_query = "kawal_" + secrets.token_urlsafe(32)

    get(hub, readers.path("trail"), revoked.secret)
    get(hub, f"{readers.path('trail')}?access_token={secret_in_query}")

    path = readers.path("trail")
    deadline = time.monotonic() + 10
    while True:
        lines = hub.worker.log_tail(400).splitlines()
        said = [line for line in lines if f"refused GET {path} from 127.0.0.1: " in line]
        if len(said) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert any(f": token_revoked (token {revoked.id} was revoked at " in line for line in said)
    assert any(": credential_in_query (" in line for line in said)
    assert not any(secret_in_query in line or revoked.secret in line for line in lines)
