"""Who is asking: the principal of an HTTP request, from its ``Authorization`` header only.

No header: the public. ``Bearer kawal_...``: a token the hub issued (:mod:`streams.audit.tokens`).
``Bearer <header>.<payload>.<signature>``: an OIDC JWT (:mod:`streams.web.oidc`), when an
issuer is configured. A credential that is sent must be good, on every view: a bad one is a
401 with its reason code and a ``WWW-Authenticate`` challenge (RFC 6750), never a silent
fall-back to the public view, so a client with a broken token learns it at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import cast

import aiohttp.web
from faust import web

from streams.audit.tokens import TOKEN_PREFIX, TokenStore
from streams.domain.principals import AccessProblem, AccessRefusal, Principal
from streams.web.oidc import OidcVerifier
from streams.web.problems import problem_response

log = logging.getLogger(__name__)

#: Realm of the challenge a refused request gets.
REALM = "kawal"
#: Seconds a reader is told to wait when the identity provider's key set could not be fetched.
JWKS_RETRY_SECONDS = 30
#: The query parameter of RFC 6750 section 2.3, which the hub refuses (section 5.3 advises
#: against it: proxies, logs and browser history keep addresses).
QUERY_CREDENTIAL = "access_token"

#: The retired ``?as=INSTITUTION``, refused on every view.
VIEWER_PARAMETER = "as"
VIEWER_IN_QUERY = AccessRefusal(
    AccessProblem.VIEWER_IN_QUERY,
    "?as= is no longer accepted: the view is the credential's; send "
    "'Authorization: Bearer <token>' (kawal token issue INSTITUTION)",
)

#: HTTP status of each refusal; every other problem is a 401 (the credential is at fault).
STATUS: dict[AccessProblem, int] = {
    AccessProblem.NOT_ENTITLED: 403,
    AccessProblem.VIEWER_IN_QUERY: 400,
    AccessProblem.JWKS_UNAVAILABLE: 503,
    AccessProblem.ACCESS_LOG_UNAVAILABLE: 503,
    AccessProblem.STORE_UNAVAILABLE: 503,
}


@dataclass(frozen=True)
class Authenticator:
    """Resolves credentials: the token store, the OIDC verifier if configured, the registry."""

    tokens: TokenStore
    institutions: Collection[str]
    oidc: OidcVerifier | None = None
    #: Told the reason code of every refused request (the metrics count them).
    on_refusal: Callable[[str], None] | None = None

    async def principal(self, request: web.Request) -> Principal | AccessRefusal | None:
        """The request's principal, None for the public, or why its credential is refused."""
        return await self._principal(request)

    def refuse(
        self,
        view: web.View,
        request: web.Request,
        refusal: AccessRefusal,
        page: str | None = None,
    ) -> web.Response:
        """The answer refusing a request, counted by its reason code.

        Every view refuses through here, whether the credential was refused, none was sent
        where one is needed, or its principal may not read what it asked for: a reader trying
        case after case is seen in the metrics, not only a bad token. ``page``: the HTML a
        person's browser gets instead of the problem document, with the same status.
        """
        if self.on_refusal is not None:
            self.on_refusal(refusal.problem.value)
        # The path, never the query (a credential sent there); a detail names a token or an
        # institution, never a secret or personal data: what ops need to find the client.
        # Faust serves through aiohttp, whose request knows the client's address.
        remote = cast(aiohttp.web.Request, request).remote
        log.info(
            "refused %s %s from %s: %s (%s)",
            request.method,
            request.url.path,
            remote or "an unknown address",
            refusal.problem.value,
            refusal.detail,
        )
        return _refusal_response(view, refusal, page)

    async def _principal(self, request: web.Request) -> Principal | AccessRefusal | None:
        # Parameter names in any case: a server or proxy that folds case must not read a
        # credential or a viewer this check let pass.
        parameters = {name.lower() for name in request.query}
        if QUERY_CREDENTIAL in parameters:
            return AccessRefusal(
                AccessProblem.CREDENTIAL_IN_QUERY,
                "a credential is taken from 'Authorization: Bearer <token>' only, never from the "
                "address, which logs and browser history keep: revoke this token and send "
                "its successor in the header",
            )
        if VIEWER_PARAMETER in parameters:
            # On every view, not only the trail that once read it: a page that ignored it
            # would answer the public view to a client that believes it asked as someone.
            return VIEWER_IN_QUERY
        # Faust serves through aiohttp, whose headers keep every repeat of a name.
        headers = cast(aiohttp.web.Request, request).headers.getall("Authorization", [])
        if not headers:
            return None
        if len(headers) > 1:
            # RFC 9110 allows one: a proxy that appends its own credential to the client's
            # must not leave the hub to choose whose the request is.
            return AccessRefusal(
                AccessProblem.MALFORMED,
                f"the request has {len(headers)} Authorization headers: send exactly one, "
                "'Authorization: Bearer <token>' (a proxy in between may be adding its own)",
            )
        header = headers[0]
        scheme, _, credential = header.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential or " " in credential:
            return AccessRefusal(
                AccessProblem.MALFORMED, "send the credential as 'Authorization: Bearer <token>'"
            )
        # The token store and the JWKS fetch block: both run off the event loop.
        return await asyncio.to_thread(self.resolve, credential)

    def resolve(self, credential: str) -> Principal | AccessRefusal:
        """The principal of a bearer credential (token or JWT), or why it is refused."""
        if credential.startswith(TOKEN_PREFIX):
            found = self.tokens.resolve(credential)
        elif credential.count(".") == 2:
            if self.oidc is None:
                return AccessRefusal(
                    AccessProblem.OIDC_NOT_CONFIGURED,
                    "this hub takes no JWTs (no OIDC issuer is configured); use a kawal token",
                )
            return self.oidc.verify(credential, self.institutions)
        else:
            return AccessRefusal(
                AccessProblem.MALFORMED,
                f"the bearer credential is neither a kawal token ({TOKEN_PREFIX}...) nor a JWT",
            )
        if isinstance(found, Principal) and not self.registered(found):
            return AccessRefusal(
                AccessProblem.UNKNOWN_INSTITUTION,
                f"token {found.credential} names an institution no longer registered",
            )
        return found

    def registered(self, principal: Principal) -> bool:
        """False for a token of an institution since removed from the registry."""
        return principal.institution is None or principal.institution in self.institutions


def _refusal_response(view: web.View, refusal: AccessRefusal, page: str | None) -> web.Response:
    """The problem document (or ``page``) of a refusal, its status and a 401's challenge."""
    status = STATUS.get(refusal.problem, 401)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = challenge(refusal)
    if refusal.problem is AccessProblem.JWKS_UNAVAILABLE:
        headers["Retry-After"] = str(JWKS_RETRY_SECONDS)
    if page is not None:
        return view.html(page, status=status, headers=headers)
    return problem_response(view, status, refusal.problem.value, refusal.detail, headers)


def challenge(refusal: AccessRefusal) -> str:
    """The ``WWW-Authenticate`` value of a 401 (RFC 6750 section 3)."""
    if refusal.problem is AccessProblem.AUTHENTICATION_REQUIRED:
        # No credential was sent: the challenge carries no error code (RFC 6750 3.1).
        return f'Bearer realm="{REALM}"'
    malformed = refusal.problem in (AccessProblem.MALFORMED, AccessProblem.CREDENTIAL_IN_QUERY)
    error = "invalid_request" if malformed else "invalid_token"
    detail = refusal.detail.replace('"', "'")
    return f'Bearer realm="{REALM}", error="{error}", error_description="{detail}"'
