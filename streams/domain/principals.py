"""Who reads the hub over HTTP, and every reason a read is refused.

A reader is a :class:`Principal` taken from its credential (a bearer token the hub issued, or
an OIDC JWT), never from a parameter it chooses: an institution, which reads what its roles in
a case entitle it to, or an operator, who runs the hub and sees cases and statistics but
never personal data. A request without a credential is the public. Refusals carry a reason
code (:class:`AccessProblem`) that scripts match on, and a sentence saying what to do; neither
ever holds a secret or a value from a case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

#: What an operator's or institution's name may look like: lower case, digits, ``.``, ``_``,
#: ``-``, like the institution ids of the registry.
PRINCIPAL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class PrincipalRole(StrEnum):
    """What a credential lets its holder read."""

    #: A registered institution: the views its roles in a case entitle it to.
    INSTITUTION = "institution"
    #: Runs the hub: cases, trails with every personal-data field withheld, statistics.
    OPERATOR = "operator"


@dataclass(frozen=True)
class Principal:
    """An authenticated reader.

    Attributes:
        name: The institution id, or the operator's name.
        role: What the credential lets it read.
        credential: Which credential it used (a token id, or ``oidc:`` and the JWT's
            subject), for the access log; never the secret.
    """

    name: str
    role: PrincipalRole
    credential: str

    @property
    def institution(self) -> str | None:
        """The institution whose view this reader gets; None for an operator."""
        return self.name if self.role is PrincipalRole.INSTITUTION else None


class AccessProblem(StrEnum):
    """Why a read is refused: the machine-readable reason of an HTTP refusal."""

    #: ``Authorization`` is not ``Bearer <credential>``, or the credential has no known shape.
    MALFORMED = "malformed_authorization"
    UNKNOWN_TOKEN = "unknown_token"  # noqa: S105 (a reason code)
    TOKEN_EXPIRED = "token_expired"  # noqa: S105 (a reason code)
    TOKEN_REVOKED = "token_revoked"  # noqa: S105 (a reason code)
    #: The credential names an institution the registry no longer (or never) listed.
    UNKNOWN_INSTITUTION = "unknown_institution"
    #: A JWT was sent, but this hub has no OIDC issuer configured.
    OIDC_NOT_CONFIGURED = "oidc_not_configured"
    JWT_INVALID = "jwt_invalid"
    JWT_EXPIRED = "jwt_expired"
    JWT_WRONG_AUDIENCE = "jwt_wrong_audience"
    JWT_WRONG_ISSUER = "jwt_wrong_issuer"
    JWT_BAD_SIGNATURE = "jwt_bad_signature"
    JWT_UNKNOWN_KEY = "jwt_unknown_key"
    JWT_NO_INSTITUTION = "jwt_missing_institution_claim"
    #: The identity provider's key set cannot be fetched (the hub's problem, not the reader's).
    JWKS_UNAVAILABLE = "jwks_unavailable"
    #: The view needs a credential and the request had none.
    AUTHENTICATION_REQUIRED = "authentication_required"
    #: The institution is not party to the case it asked about.
    NOT_ENTITLED = "not_entitled"
    #: A read of personal data that could not be recorded in the access log is not served.
    ACCESS_LOG_UNAVAILABLE = "access_log_unavailable"
    #: The audit store, which keeps the tokens, cannot be read: the token cannot be checked.
    STORE_UNAVAILABLE = "store_unavailable"
    #: The retired ``?as=INSTITUTION``: the viewer comes from the credential now.
    VIEWER_IN_QUERY = "viewer_in_query"
    #: A token in the address (``?access_token=``), where logs and browser history keep it.
    CREDENTIAL_IN_QUERY = "credential_in_query"


@dataclass(frozen=True)
class AccessRefusal:
    """A refused read: its reason code and what to do (no secret, no personal data)."""

    problem: AccessProblem
    detail: str
