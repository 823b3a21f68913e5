"""Bearer tokens of HTTP readers, kept in the audit store as hashes: issue, list, revoke, resolve.

A token is ``kawal_`` followed by 32 random bytes (URL-safe base64), shown once when it is
issued (``kawal token issue``). The store keeps its SHA-256 only. A slow password hash (bcrypt,
Argon2) protects secrets people choose, which are guessable; a 256-bit random secret is not,
so a fast hash is as safe, lets the hub find a token by an indexed equality lookup, and costs
nothing per request. Comparing hashes in the database is not constant-time, which is harmless:
timing could at most reveal a prefix of the hash, not of the secret.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, RowMapping, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from schemas.errors import KawalError
from streams.audit.tables import ApiToken
from streams.domain.free_text import NAMES_SOMEONE, names_someone
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.principals import (
    PRINCIPAL_NAME,
    AccessProblem,
    AccessRefusal,
    Principal,
    PrincipalRole,
)
from streams.sql_engines import driver_said
from streams.sql_time import as_utc

#: Every token starts with it, so secret scanners and people recognise one.
TOKEN_PREFIX = "kawal_"  # noqa: S105 (a prefix, not a secret)
#: Random bytes in a secret: 256 bits, out of reach of guessing.
SECRET_BYTES = 32
#: Random bytes in a token's public id.
ID_BYTES = 6
#: The longest a token may live: a leaked one stops working within a year even if nobody
#: notices, and every holder renews once a year.
MAX_LIFETIME = timedelta(days=366)


#: What a reader whose token is refused does: tokens are the hub operators' to issue.
ASK_THE_OPERATORS = "ask the hub's operators for a new one (they issue it with `kawal token issue`)"

#: The answer while the audit store, which keeps the tokens, cannot be read (down, locked).
STORE_DOWN = AccessRefusal(
    AccessProblem.STORE_UNAVAILABLE,
    "the audit store cannot be read, so the token cannot be checked; try again",
)


class TokenError(KawalError):
    """A token cannot be issued or revoked as asked."""


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: the secret is shown once and never stored."""

    id: str
    secret: str
    principal: str
    role: PrincipalRole
    expires_at: datetime


@dataclass(frozen=True)
class TokenInfo:
    """A token as ``kawal token list`` shows it (never the secret)."""

    id: str
    principal: str
    role: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None


def secret_hash(secret: str) -> str:
    """The stored form of a secret: its SHA-256, hex (see the module's docstring)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenStore:
    """The ``api_tokens`` table of the audit store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def issue(
        self,
        principal: str,
        role: PrincipalRole,
        expires_at: datetime,
        institutions: Container[str],
        now: datetime | None = None,
    ) -> IssuedToken:
        """Make a token for ``principal``; only its hash is stored.

        Args:
            principal: An institution id (role institution) or an operator's name.
            role: What the token lets its holder read.
            expires_at: When it stops working (timezone-aware).
            institutions: The registered institution ids.
            now: The issuing time (default: now).

        Raises:
            TokenError: an unknown institution, an operator named like an institution, a
                badly formed name, an expiry more than :data:`MAX_LIFETIME` away, or the store
                cannot be written.
        """
        _check_principal(principal, role, institutions)
        issued_at = as_utc(now or datetime.now(UTC))
        if as_utc(expires_at) - issued_at > MAX_LIFETIME:
            raise TokenError(
                f"a token lives at most {MAX_LIFETIME.days} days; give an earlier --expires and "
                "issue the next one before it ends"
            )
        secret = TOKEN_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
        token_id, expires = "tok_" + secrets.token_hex(ID_BYTES), as_utc(expires_at)
        values = {
            "id": token_id,
            "principal": principal,
            "role": role.value,
            "secret_hash": secret_hash(secret),
            "created_at": issued_at,
            "expires_at": expires,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(ApiToken), values)
        except IntegrityError as exc:
            # Two equal random ids or secrets: astronomically unlikely; issuing again works.
            raise TokenError("could not store the token; issue it again") from exc
        except SQLAlchemyError as exc:
            raise TokenError(f"cannot write to the audit store: {driver_said(exc)}") from exc
        return IssuedToken(token_id, secret, principal, role, expires)

    def tokens(self) -> list[TokenInfo]:
        """Every token, newest first."""
        query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id)
        with self.engine.connect() as conn:
            return [_info(row) for row in conn.execute(query).mappings()]

    def revoke(self, token_id: str, reason: str | None, now: datetime | None = None) -> TokenInfo:
        """Revoke a token from now on; revoking it again keeps the first time and reason.

        Raises:
            TokenError: no token has this id.
        """
        moment = as_utc(now or datetime.now(UTC))
        with self.engine.begin() as conn:
            conn.execute(
                update(ApiToken)
                .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
                .values(revoked_at=moment, revoked_reason=reason)
            )
            row = conn.execute(select(ApiToken).where(ApiToken.id == token_id)).mappings().first()
        if row is None:
            raise TokenError(f"no token {token_id!r}; `kawal token list` shows the ids")
        return _info(row)

    def resolve(self, secret: str, now: datetime | None = None) -> Principal | AccessRefusal:
        """The principal a presented secret stands for, or why it is refused."""
        query = select(ApiToken).where(ApiToken.secret_hash == secret_hash(secret))
        try:
            with self.engine.connect() as conn:
                row = conn.execute(query).mappings().first()
        except SQLAlchemyError:
            # The store's own check logs why, once (streams.hub.store_check), not per request.
            return STORE_DOWN
        if row is None:
            return AccessRefusal(
                AccessProblem.UNKNOWN_TOKEN,
                "the bearer token is not one this hub issued (mistyped, cut short, or another "
                "hub's); send the whole kawal_... secret that `kawal token issue` printed, or "
                f"{ASK_THE_OPERATORS}",
            )
        token = _info(row)
        moment = as_utc(now or datetime.now(UTC))
        if token.revoked_at is not None and moment >= token.revoked_at:
            return AccessRefusal(
                AccessProblem.TOKEN_REVOKED,
                f"token {token.id} was revoked at {token.revoked_at.isoformat()}; "
                f"{ASK_THE_OPERATORS}",
            )
        if moment >= token.expires_at:
            return AccessRefusal(
                AccessProblem.TOKEN_EXPIRED,
                f"token {token.id} expired at {token.expires_at.isoformat()}; {ASK_THE_OPERATORS}",
            )
        return Principal(token.principal, PrincipalRole(token.role), token.id)


def _check_principal(principal: str, role: PrincipalRole, institutions: Container[str]) -> None:
    if names_someone(principal):
        # Not quoted: the name is listed, and logged with every read the token makes.
        raise TokenError(
            f"the token's name {NAMES_SOMEONE}; it is listed and logged with every read the "
            "token makes: name an operator by a handle such as ops.ana"
        )
    if principal == HUB_INSTITUTION:
        raise TokenError(
            f"{principal!r} is the hub itself, which reads nothing over HTTP: issue the token "
            "to the institution that reads, or to an operator with --role operator"
        )
    if role is PrincipalRole.INSTITUTION and principal not in institutions:
        raise TokenError(
            f"{principal!r} is not in the institutions registry; register it first "
            "(KAWAL_INSTITUTIONS_FILE), or issue an operator token with --role operator"
        )
    if role is PrincipalRole.OPERATOR and principal in institutions:
        raise TokenError(
            f"{principal!r} is an institution; an operator token needs the operator's own name"
        )
    if not PRINCIPAL_NAME.match(principal):
        raise TokenError(
            f"{principal!r} is not a usable name: lower-case letters, digits, '.', '_' and '-', "
            "at most 64 characters"
        )


def _info(row: RowMapping) -> TokenInfo:
    # The columns give aware UTC datetimes (streams.sql_time).
    return TokenInfo(
        id=row["id"],
        principal=row["principal"],
        role=row["role"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        revoked_reason=row["revoked_reason"],
    )
