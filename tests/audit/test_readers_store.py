"""Bearer tokens and the access log in the audit store, on SQLite and a real PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from streams.audit.access_log import AccessLog, shown_personal_fields
from streams.audit.store import AuditStore
from streams.audit.tables import AccessLogRow, ApiToken
from streams.audit.tokens import TOKEN_PREFIX, IssuedToken, TokenError, TokenStore, secret_hash
from streams.audit.trail import WITHHELD
from streams.domain.principals import AccessProblem, AccessRefusal, Principal, PrincipalRole
from tests.audit.treetools import hub_key_at

INSTITUTIONS = frozenset({"bkn", "kasn", "ppk.3374"})
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CASE = "0b5c6a1e-0000-4000-8000-000000000001"
OTHER = "0b5c6a1e-0000-4000-8000-000000000002"


def issue(tokens: TokenStore, days: int = 30) -> IssuedToken:
    return tokens.issue("bkn", PrincipalRole.INSTITUTION, NOW + timedelta(days), INSTITUTIONS, NOW)


def test_only_the_hash_of_a_secret_is_stored(store: AuditStore) -> None:
    tokens = TokenStore(store.engine)
    secret = issue(tokens).secret
    with store.engine.connect() as conn:
        stored = [tuple(row) for row in conn.execute(select(ApiToken.__table__))]

    assert secret.startswith(TOKEN_PREFIX)
    assert len(secret) > 40
    assert not [value for row in stored for value in row if secret in str(value)]
    assert [row[3] for row in stored] == [secret_hash(secret)]
    assert tokens.resolve(secret, NOW) == Principal("bkn", PrincipalRole.INSTITUTION, stored[0][0])


def test_every_refusal_of_a_token_has_its_reason(store: AuditStore) -> None:
    tokens = TokenStore(store.engine)
    expiring = issue(tokens, days=1).secret
    revoked = issue(tokens)
    tokens.revoke(revoked.id, "lost laptop", NOW + timedelta(hours=1))

    def problem(secret: str, at: datetime) -> AccessProblem | None:
        found = tokens.resolve(secret, at)
        return found.problem if isinstance(found, AccessRefusal) else None

    assert problem(expiring, NOW + timedelta(hours=23)) is None
    assert problem(expiring, NOW + timedelta(days=1)) is AccessProblem.TOKEN_EXPIRED
    assert problem(revoked.secret, NOW) is None
    assert problem(revoked.secret, NOW + timedelta(hours=1)) is AccessProblem.TOKEN_REVOKED
    assert problem(TOKEN_PREFIX + "x" * 43, NOW) is AccessProblem.UNKNOWN_TOKEN


def test_revoking_twice_keeps_the_first_revocation(store: AuditStore) -> None:
    tokens = TokenStore(store.engine)
    token_id = issue(tokens).id

    first = tokens.revoke(token_id, "lost", NOW)
    again = tokens.revoke(token_id, "again", NOW + timedelta(days=1))

    assert (again.revoked_at, again.revoked_reason) == (first.revoked_at, "lost")
    assert again.revoked_at == NOW
    with pytest.raises(TokenError, match="no token 'tok_nope'"):
        tokens.revoke("tok_nope", None)


@pytest.mark.parametrize(
    ("principal", "role", "message"),
    [
        ("nobody.9999", PrincipalRole.INSTITUTION, "not in the institutions registry"),
        ("bkn", PrincipalRole.OPERATOR, "is an institution"),
        ("Ana Operator", PrincipalRole.OPERATOR, "not a usable name"),
    ],
)
def test_a_token_for_an_unusable_principal_is_refused(
    store: AuditStore, principal: str, role: PrincipalRole, message: str
) -> None:
    tokens = TokenStore(store.engine)
    with pytest.raises(TokenError, match=message):
        tokens.issue(principal, role, NOW + timedelta(days=1), INSTITUTIONS, NOW)
    assert tokens.tokens() == []


def test_tokens_are_listed_newest_first(store: AuditStore) -> None:
    tokens = TokenStore(store.engine)
    tokens.issue("bkn", PrincipalRole.INSTITUTION, NOW + timedelta(days=9), INSTITUTIONS, NOW)
    later = NOW + timedelta(minutes=5)
    tokens.issue("ops.ana", PrincipalRole.OPERATOR, later + timedelta(days=1), INSTITUTIONS, later)

    listed = tokens.tokens()

    assert [(token.principal, token.role) for token in listed] == [
        ("ops.ana", "operator"),
        ("bkn", "institution"),
    ]
    assert listed[1].created_at == NOW
    assert listed[1].expires_at == NOW + timedelta(days=9)


def test_the_access_log_keeps_names_and_filters(store: AuditStore) -> None:
    log = AccessLog(store.engine, hub_key_at())
    bkn = Principal("bkn", PrincipalRole.INSTITUTION, "tok_1")
    ppk = Principal("ppk.3374", PrincipalRole.INSTITUTION, "oidc:user-7")
    log.record(bkn, CASE, ["subject_name", "reporter_identity", "subject_name"], "/a", NOW)
    log.record(ppk, CASE, ["subject_name"], "/b", NOW + timedelta(seconds=1))
    log.record(bkn, OTHER, ["subject_nip"], "/c", NOW + timedelta(seconds=2))

    assert [row.path for row in log.entries()] == ["/a", "/b", "/c"]
    assert log.entries([CASE])[0].fields == ("reporter_identity", "subject_name")
    assert [row.path for row in log.entries(None, "bkn")] == ["/a", "/c"]
    assert [row.path for row in log.entries([OTHER], "ppk.3374")] == []
    assert log.entries([OTHER])[0].as_json() == {
        "read_at": (NOW + timedelta(seconds=2)).isoformat(),
        "principal": "bkn",
        "role": "institution",
        "credential": "tok_1",
        "case_id": OTHER,
        "fields": ["subject_nip"],
        "path": "/c",
    }
    assert log.case_ids() == sorted([CASE, OTHER])
    with store.engine.connect() as conn:
        assert conn.execute(select(AccessLogRow.id)).scalars().all() == [1, 2, 3]


def test_shown_fields_are_the_personal_ones_not_withheld() -> None:
    from schemas.catalog import default_catalog

    view = {
        "entries": [
            {
                "event_type": "ReportReceived",
                "fields": {
                    "subject_name": "(a value)",
                    "reporter_identity": WITHHELD,
                    "election": "pilkada-2024",
                },
            }
        ]
    }

    assert shown_personal_fields(view, default_catalog()) == ("subject_name",)
    assert shown_personal_fields({"entries": []}, default_catalog()) == ()


def test_an_unknown_token_is_refused_with_what_to_do(store: AuditStore) -> None:
    found = TokenStore(store.engine).resolve(TOKEN_PREFIX + "x" * 43, NOW)

    assert isinstance(found, AccessRefusal)
    assert found.detail == (
        "the bearer token is not one this hub issued (mistyped, cut short, or another hub's); "
        "send the whole kawal_... secret that `kawal token issue` printed, or ask the hub's "
        "operators for a new one (they issue it with `kawal token issue`)"
    )
