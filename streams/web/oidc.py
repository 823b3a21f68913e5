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

import jwt

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
        institution = claims.get(self.config.institution_claim)
        if not isinstance(institution, str) or not institution:
            return AccessRefusal(
                AccessProblem.JWT_NO_INSTITUTION,
                f"the JWT has no {self.config.institution_claim!r} claim naming an institution",
            )
        if institution not in institutions:
            return AccessRefusal(
                AccessProblem.UNKNOWN_INSTITUTION,
                f"the JWT's {self.config.institution_claim!r} claim names no registered "
                "institution",
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
)


def _refusal(exc: jwt.PyJWTError) -> AccessRefusal:
    for kind, problem, detail in _PROBLEMS:
        if isinstance(exc, kind):
            return AccessRefusal(problem, detail)
    # PyJWT's message names the missing claim or the bad header, never a claim's value.
    return AccessRefusal(AccessProblem.JWT_INVALID, f"the JWT is not valid: {exc}")
