"""The bearer token the demo's PPK connector reads case trails with (``kawal up --demo``).

``ppk-inbox`` reads the subject of a case from its trail at the hub, as the PPK
(``connectors/ppk/trail_subjects.py``). On one machine the demo gives it a token of
``ppk.3374``, kept in ``KAWAL_HOME/connectors/ppk.3374.hub-token`` (mode 0600): the one kept
there is used again while the hub still takes it, so a restart issues no token; one expired,
revoked or of another store is replaced by a new one (:data:`LIFETIME`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from streams.audit.store import AuditStore
from streams.audit.tokens import TokenStore
from streams.domain.institutions import load_institutions
from streams.domain.principals import Principal, PrincipalRole
from streams.private_files import write_private_file
from streams.settings import Settings

#: The demo's PPK (PPK Kota Semarang), whose registry the demo's ``ppk-inbox`` fills.
DEMO_PPK = "ppk.3374"
#: How long a token the demo issues lives.
LIFETIME = timedelta(days=30)
#: Interfaces that mean "every interface": the hub is reached on loopback then.
_ANY_HOST = {"0.0.0.0", "::", ""}  # noqa: S104 (compared with, never bound)


def demo_token_file(home: Path) -> Path:
    """Where the demo keeps its PPK's token."""
    return home / "connectors" / f"{DEMO_PPK}.hub-token"


def demo_hub_url(settings: Settings) -> str:
    """The address of the hub's web server, as a connector on this machine reaches it."""
    host = "127.0.0.1" if settings.web_host in _ANY_HOST else settings.web_host
    return f"{settings.web_scheme}://{host}:{settings.web_port}"


def demo_token(settings: Settings) -> Path:
    """The file of a token of :data:`DEMO_PPK` the hub takes, issued if none is kept.

    Raises:
        streams.audit.store_errors.StoreError: no audit store yet (the hub never ran here).
        streams.audit.tokens.TokenError: the store cannot be written.
    """
    path = demo_token_file(settings.home)
    store = AuditStore.open_existing(settings.audit_url)
    try:
        store.create_schema()
        tokens = TokenStore(store.engine)
        if isinstance(tokens.resolve(_kept(path)), Principal):
            return path
        institutions = {inst.id for inst in load_institutions(settings.institutions_file)}
        issued = tokens.issue(
            DEMO_PPK, PrincipalRole.INSTITUTION, datetime.now(UTC) + LIFETIME, institutions
        )
    finally:
        store.close()
    # Whole or not at all: a token cut short by a full disk would be refused as another's.
    write_private_file(path, (issued.secret + "\n").encode(), overwrite=True)
    return path


def _kept(path: Path) -> str:
    """The token kept in ``path``; empty if none."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""
