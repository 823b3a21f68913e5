"""``kawal token issue|list|revoke``: bearer tokens of the hub's HTTP readers.

``issue`` prints the secret once; the audit store keeps only its hash (:mod:`streams.audit.tokens`),
so a lost token is revoked and replaced, never recovered. Every token expires: ``--expires``
takes a duration (``90m``, ``12h``, ``30d``, ``8w``) or a date (the token stops working at 00:00
UTC that day) or a date-time with its offset, at most 366 days ahead.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

from schemas.errors import KawalError
from streams.audit.store import AuditStore
from streams.audit.tokens import IssuedToken, TokenInfo, TokenStore
from streams.cli.arguments import reason_naming_no_one
from streams.cli.exits import EXIT_OK
from streams.cli.moments import MOMENT_FORMS, day_or_moment
from streams.cli.output import reporting_errors
from streams.domain.institutions import load_institutions
from streams.domain.principals import PrincipalRole
from streams.settings import Settings

#: A duration: a count and its unit.
DURATION = re.compile(r"^([0-9]+)([mhdw])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def add_parsers(commands: Any) -> None:
    """Add ``token issue``, ``token list`` and ``token revoke``."""
    token = commands.add_parser("token", help="bearer tokens of HTTP readers (stored hashed)")
    actions = token.add_subparsers(dest="token_command", required=True)
    issue = actions.add_parser("issue", help="make a token; its secret is printed once")
    issue.add_argument("principal", help="a registered institution id, or an operator's name")
    issue.add_argument(
        "--expires",
        required=True,
        type=expiry,
        metavar="DURATION|DATE",
        help=f"a duration (30d, 12h, 90m, 8w), {MOMENT_FORMS}",
    )
    issue.add_argument(
        "--role",
        choices=[role.value for role in PrincipalRole],
        default=PrincipalRole.INSTITUTION.value,
        help="institution (its entitled views) or operator (no personal data); default institution",
    )
    issue.add_argument("--json", action="store_true", help="machine-readable output")
    issue.set_defaults(run=_issue)
    listing = actions.add_parser(
        "list", help="every token (never its secret) and its state: active, expired or revoked"
    )
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(run=_list)
    revoke = actions.add_parser("revoke", help="revoke a token from now on")
    revoke.add_argument("token_id", help="the token's id, as `kawal token list` shows it")
    revoke.add_argument(
        "--reason", type=reason_naming_no_one, help="why, on one line (kept with the token)"
    )
    revoke.add_argument("--json", action="store_true", help="machine-readable output")
    revoke.set_defaults(run=_revoke)


def expiry(text: str, now: datetime | None = None) -> datetime:
    """The moment ``--expires`` means, in UTC.

    Raises:
        argparse.ArgumentTypeError: not a duration, date or date-time with offset.
    """
    found = DURATION.match(text)
    if found:
        count, unit = int(found.group(1)), UNITS[found.group(2)]
        try:
            return (now or datetime.now(UTC)).replace(microsecond=0) + timedelta(**{unit: count})
        except OverflowError:
            raise argparse.ArgumentTypeError(
                f"{text!r} ends after {date.max}, the last day a date can hold; give a shorter "
                "duration or a date"
            ) from None
    moment = day_or_moment(text)
    if moment is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration (30d, 12h, 90m, 8w), {MOMENT_FORMS}"
        )
    return moment.astimezone(UTC)


def _issue(args: argparse.Namespace, settings: Settings) -> int:
    def issue() -> int:
        if args.expires <= datetime.now(UTC):
            raise KawalError("--expires is in the past; a token must expire later than now")
        from streams.app import create_store

        institutions = {inst.id for inst in load_institutions(settings.institutions_file)}
        # Tokens may be issued before the hub first starts, so this may create the store.
        if not settings.audit_db_url:
            settings.home.mkdir(parents=True, exist_ok=True)
        store = create_store(settings)
        try:
            issued = TokenStore(store.engine).issue(
                args.principal, PrincipalRole(args.role), args.expires, institutions
            )
        finally:
            store.close()
        _print_issued(issued, as_json=args.json)
        return EXIT_OK

    return reporting_errors(issue, as_json=args.json)


def _print_issued(issued: IssuedToken, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(_token_json(issued) | {"token": issued.secret}))
        return
    print(issued.secret)
    print(
        f"# token {issued.id} for {issued.principal} ({issued.role.value}), expires "
        f"{issued.expires_at.isoformat()}; shown once, only its hash is kept",
        file=sys.stderr,
    )


def _list(args: argparse.Namespace, settings: Settings) -> int:
    def listing() -> int:
        store = existing_store(settings)
        try:
            tokens = TokenStore(store.engine).tokens()
        finally:
            store.close()
        if args.json:
            print(json.dumps([_token_json(token) for token in tokens], indent=2))
            return EXIT_OK
        for token in tokens:
            state = token_state(token)
            if token.revoked_at is not None:
                state += f" {token.revoked_at.isoformat()}"
            print(
                f"{token.id}  {token.principal:<20} {token.role:<11} "
                f"expires {token.expires_at.isoformat()}  {state}"
            )
        if not tokens:
            print("no tokens yet: kawal token issue INSTITUTION --expires 30d")
        return EXIT_OK

    return reporting_errors(listing, as_json=args.json)


def token_state(token: TokenInfo, now: datetime | None = None) -> str:
    """``revoked``, ``expired`` or ``active``: whether the hub takes the token, and if not why.

    The same order as the hub's check (:meth:`streams.audit.tokens.TokenStore.resolve`): a
    revoked token is told as revoked even once past its expiry.
    """
    moment = now or datetime.now(UTC)
    if token.revoked_at is not None and moment >= token.revoked_at:
        return "revoked"
    return "expired" if moment >= token.expires_at else "active"


def _revoke(args: argparse.Namespace, settings: Settings) -> int:
    def revoke() -> int:
        store = existing_store(settings)
        try:
            token = TokenStore(store.engine).revoke(args.token_id, args.reason)
        finally:
            store.close()
        if args.json:
            print(json.dumps(_token_json(token)))
        else:
            assert token.revoked_at is not None  # revoke() always sets it
            print(f"revoked {token.id} ({token.principal}) at {token.revoked_at.isoformat()}")
        return EXIT_OK

    return reporting_errors(revoke, as_json=args.json)


def existing_store(settings: Settings) -> AuditStore:
    """The existing audit store, brought to the newest schema.

    Never a new one: a wrong URL is an error, not an empty store. A store from before tokens
    and the access log existed gains their tables.
    """
    store = AuditStore.open_existing(settings.audit_url)
    store.create_schema()
    return store


def _token_json(token: IssuedToken | TokenInfo) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": token.id,
        "principal": token.principal,
        "role": str(token.role),
        "expires_at": token.expires_at.isoformat(),
    }
    if isinstance(token, TokenInfo):
        found |= {
            "state": token_state(token),
            "created_at": token.created_at.isoformat(),
            "revoked": token.revoked_at is not None,
            "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
            "revoked_reason": token.revoked_reason,
        }
    return found
