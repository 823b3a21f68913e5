"""OIDC single sign-on for HTTP readers: JWTs checked against the identity provider's JWKS.

An institution's identity provider signs a JWT whose ``iss`` and ``aud`` are the configured
ones and one claim (``KAWAL_OIDC_INSTITUTION_CLAIM``) names the institution the holder reads
for. PyJWT verifies the signature with the key of the token's ``kid`` from the JWKS URL
(fetched and cached by ``PyJWKClient``), the expiry, issuer and audience. Only asymmetric
algorithms are accepted: with ``HS256`` a public key could be used as a shared secret, and
``none`` would skip the signature.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import ip_address
from urllib.parse import urlsplit

import jwt

from streams.audit.tokens import MAX_LIFETIME
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.principals import AccessProblem, AccessRefusal, Principal, PrincipalRole

#: Signature algorithms a JWT may use.
ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")
#: Claims every accepted JWT must carry.
REQUIRED_CLAIMS = ("exp", "iss", "aud")
#: Seconds a JWKS fetch may take before the read is answered 503.
JWKS_TIMEOUT_SECONDS = 10.0
#: Longest subject kept in the access log.
SUBJECT_CHARS = 150


@dataclass(frozen=True)
class OidcConfig:
    """Where JWTs come from and which claim names the institution."""

    issuer: str
    audience: str
    jwks_url: str
    institution_claim: str


class OidcVerifier:
    """Turns a JWT into the institution it speaks for, or a refusal with its reason.

    ``verify`` blocks on the network when the key set is not cached: call it off the event
    loop.
    """

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self.keys = jwt.PyJWKClient(config.jwks_url, timeout=JWKS_TIMEOUT_SECONDS)

    def verify(self, token: str, institutions: Container[str]) -> Principal | AccessRefusal:
        """The principal of ``token``, or why it is refused."""
        try:
            if "kid" not in jwt.get_unverified_header(token):
                return AccessRefusal(
                    AccessProblem.JWT_UNKNOWN_KEY,
                    "the JWT's header names no key (kid): the identity provider names the key "
                    "of its key set it signed with",
                )
            key = self.keys.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=self.config.audience,
                issuer=self.config.issuer,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.PyJWTError as exc:
            return _refusal(exc)
        if datetime.fromtimestamp(claims["exp"], UTC) - datetime.now(UTC) > MAX_LIFETIME:
            # A stolen JWT is good until it expires: no provider issues one for years.
            return AccessRefusal(
                AccessProblem.JWT_INVALID,
                f"the JWT expires more than {MAX_LIFETIME.days} days ahead, longer than any "
                "token the hub takes; have the identity provider issue short-lived ones",
            )
        institution = claims.get(self.config.institution_claim)
        if not isinstance(institution, str) or not institution:
            return AccessRefusal(
                AccessProblem.JWT_NO_INSTITUTION,
                f"the JWT has no {self.config.institution_claim!r} claim naming an institution",
            )
        if institution not in institutions or institution == HUB_INSTITUTION:
            # The hub is registered, but as the hub: no identity provider speaks for it.
            return AccessRefusal(
                AccessProblem.UNKNOWN_INSTITUTION,
                f"the JWT's {self.config.institution_claim!r} claim names no registered "
                "institution that reads (the hub itself reads nothing over HTTP)",
            )
        subject = str(claims.get("sub", ""))[:SUBJECT_CHARS]
        return Principal(institution, PrincipalRole.INSTITUTION, f"oidc:{subject}")


#: PyJWT's errors, most specific first, and the reason each becomes.
_PROBLEMS: tuple[tuple[type[jwt.PyJWTError], AccessProblem, str], ...] = (
    (
        jwt.PyJWKClientConnectionError,
        AccessProblem.JWKS_UNAVAILABLE,
        "the identity provider's key set cannot be fetched; try again later",
    ),
    (jwt.PyJWKSetError, AccessProblem.JWKS_UNAVAILABLE, "the key set holds no usable key"),
    (
        jwt.PyJWKClientError,
        AccessProblem.JWT_UNKNOWN_KEY,
        "the JWT's kid is not in the identity provider's key set",
    ),
    (jwt.ExpiredSignatureError, AccessProblem.JWT_EXPIRED, "the JWT has expired; sign in again"),
    (
        jwt.InvalidAudienceError,
        AccessProblem.JWT_WRONG_AUDIENCE,
        "the JWT is not meant for this hub (aud)",
    ),
    (
        jwt.InvalidIssuerError,
        AccessProblem.JWT_WRONG_ISSUER,
        "the JWT comes from another issuer (iss)",
    ),
    (
        jwt.InvalidSignatureError,
        AccessProblem.JWT_BAD_SIGNATURE,
        "the JWT's signature does not verify",
    ),
    (
        # After InvalidSignatureError, one of its kind; the library's words name the bytes.
        jwt.DecodeError,
        AccessProblem.JWT_INVALID,
        "the JWT does not decode: it is three base64url parts (header, claims, signature), "
        "the first two JSON objects",
    ),
)


def jwks_url_problem(url: str) -> str | None:
    """Why the hub may not fetch its identity provider's keys from ``url``; None if it may.

    Whoever answers the key set decides who reads personal data: it is fetched over HTTPS,
    or plain HTTP on this machine only.

    Example:
        >>> jwks_url_problem("https://idp.bkn.go.id/jwks.json") is None
        True
        >>> jwks_url_problem("http://127.0.0.1:8080/jwks.json") is None
        True
        >>> jwks_url_problem("http://idp.bkn.go.id/jwks.json")[:40]
        'KAWAL_OIDC_JWKS_URL is fetched over plai'
    """
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and _loopback(parts.hostname or ""):
        return None
    return (
        "KAWAL_OIDC_JWKS_URL is fetched over plain HTTP or is no URL: whoever answers it "
        "decides who reads personal data; give the identity provider's https:// address "
        "(plain http only on 127.0.0.1 or localhost)"
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _refusal(exc: jwt.PyJWTError) -> AccessRefusal:
    for kind, problem, detail in _PROBLEMS:
        if isinstance(exc, kind):
            return AccessRefusal(problem, detail)
    # PyJWT's message names the missing claim or the bad header, never a claim's value.
    return AccessRefusal(AccessProblem.JWT_INVALID, f"the JWT is not valid: {exc}")
