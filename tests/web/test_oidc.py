"""OIDC JWTs checked against a JWKS served over real HTTP, each refusal with its reason."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from streams.audit.store import AuditStore
from streams.audit.tokens import TokenStore
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.principals import AccessProblem, AccessRefusal, Principal, PrincipalRole
from streams.local.processes import free_port
from streams.web.auth import Authenticator
from streams.web.oidc import OidcConfig, OidcVerifier
from tests.web.identity import AUDIENCE, CLAIM, ISSUER, KID, IdentityProvider, serve_jwks

INSTITUTIONS = frozenset({"bkn", "kasn", HUB_INSTITUTION})  # the registry lists the hub too


@pytest.fixture(scope="module")
def provider() -> IdentityProvider:
    return IdentityProvider()


@pytest.fixture(scope="module")
def jwks_url(provider: IdentityProvider) -> Iterator[str]:
    with serve_jwks(provider.jwks()) as url:
        yield url


def authenticator(tmp_path: Path, jwks_url: str | None) -> Authenticator:
    store = AuditStore(f"sqlite:///{tmp_path / 'audit.db'}")
    store.create_schema()
    verifier = None
    if jwks_url is not None:
        verifier = OidcVerifier(OidcConfig(ISSUER, AUDIENCE, jwks_url, CLAIM))
    return Authenticator(TokenStore(store.engine), INSTITUTIONS, verifier)


def test_a_good_jwt_names_its_institution(
    provider: IdentityProvider, jwks_url: str, tmp_path: Path
) -> None:
    found = authenticator(tmp_path, jwks_url).resolve(provider.token())

    assert found == Principal("bkn", PrincipalRole.INSTITUTION, "oidc:user-1")


def _forged(algorithm: str, key: str) -> str:
    # Tokens of an attacker who knows the kid: only the algorithm can tell them from good ones.
    claims = {"iss": ISSUER, "aud": AUDIENCE, "exp": datetime.now(UTC) + timedelta(hours=1)}
    return jwt.encode(claims | {CLAIM: "bkn"}, key, algorithm, {"kid": KID})


CASES: list[tuple[str, dict[str, Any], AccessProblem]] = [
    ("wrong audience", {"aud": "someone-else"}, AccessProblem.JWT_WRONG_AUDIENCE),
    ("wrong issuer", {"iss": "https://evil.example"}, AccessProblem.JWT_WRONG_ISSUER),
    ("expired", {"exp": datetime.now(UTC) - timedelta(hours=1)}, AccessProblem.JWT_EXPIRED),
    ("bad signature", {"stranger": True}, AccessProblem.JWT_BAD_SIGNATURE),
    ("unknown kid", {"kid": "rotated-away"}, AccessProblem.JWT_UNKNOWN_KEY),
    ("no institution claim", {"drop": (CLAIM,)}, AccessProblem.JWT_NO_INSTITUTION),
    ("no expiry", {"drop": ("exp",)}, AccessProblem.JWT_INVALID),
    ("unregistered institution", {CLAIM: "bawaslu.99"}, AccessProblem.UNKNOWN_INSTITUTION),
    # Registered, but as the hub: before, a JWT could speak for it.
    ("the hub itself", {CLAIM: HUB_INSTITUTION}, AccessProblem.UNKNOWN_INSTITUTION),
    (
        "valid for ten years",
        {"exp": datetime.now(UTC) + timedelta(days=3653)},
        AccessProblem.JWT_INVALID,
    ),
]


@pytest.mark.parametrize(
    ("change", "problem"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
def test_a_bad_jwt_is_refused_with_its_reason(
    provider: IdentityProvider,
    jwks_url: str,
    tmp_path: Path,
    change: dict[str, Any],
    problem: AccessProblem,
) -> None:
    if change.pop("stranger", False):
        change["signer"] = provider.stranger
    found = authenticator(tmp_path, jwks_url).resolve(provider.token(**change))

    assert isinstance(found, AccessRefusal)
    assert found.problem is problem


@pytest.mark.parametrize(
    "token",
    [_forged("HS256", "k" * 32), _forged("none", ""), "a.b.c"],
    ids=["HS256", "none", "not base64"],
)
def test_a_jwt_of_no_accepted_algorithm_or_shape_is_invalid(
    jwks_url: str, tmp_path: Path, token: str
) -> None:
    found = authenticator(tmp_path, jwks_url).resolve(token)

    assert isinstance(found, AccessRefusal)
    assert found.problem is AccessProblem.JWT_INVALID


def test_a_jwt_naming_no_key_or_not_decoding_is_told_so_in_the_hubs_words(
    provider: IdentityProvider, jwks_url: str, tmp_path: Path
) -> None:
    hour = datetime.now(UTC) + timedelta(hours=1)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "exp": hour, CLAIM: "bkn"}
    unnamed = jwt.encode(claims, provider.key, algorithm="ES256")  # no kid in its header
    garbage = "twBnYXJiYWdl.e30.c2ln"  # a header of b"\xb7\x00garbage", which is no UTF-8

    without_kid = authenticator(tmp_path, jwks_url).resolve(unnamed)
    undecodable = authenticator(tmp_path, jwks_url).resolve(garbage)

    assert isinstance(without_kid, AccessRefusal)
    assert without_kid.problem is AccessProblem.JWT_UNKNOWN_KEY
    assert without_kid.detail.startswith("the JWT's header names no key (kid)")
    assert isinstance(undecodable, AccessRefusal)
    assert undecodable.problem is AccessProblem.JWT_INVALID
    # Before, PyJWT's own words: "Invalid header string: 'utf-8' codec can't decode ...".
    assert undecodable.detail.startswith("the JWT does not decode: it is three base64url parts")


def test_an_unreachable_key_set_is_the_hubs_problem(
    provider: IdentityProvider, tmp_path: Path
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/jwks.json"  # nothing listens there

    found = authenticator(tmp_path, closed).resolve(provider.token())

    assert isinstance(found, AccessRefusal)
    assert found.problem is AccessProblem.JWKS_UNAVAILABLE


def test_a_jwt_without_an_issuer_configured_is_refused(
    provider: IdentityProvider, tmp_path: Path
) -> None:
    found = authenticator(tmp_path, None).resolve(provider.token())

    assert isinstance(found, AccessRefusal)
    assert found.problem is AccessProblem.OIDC_NOT_CONFIGURED
