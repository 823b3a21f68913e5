"""Keys that must not vouch: expired and revoked ones, registered beside the valid ones.

The session hub's registry lists, for every principal, a key that expired and a key that was
revoked before any event the tests send; their private halves live apart from the key ring's
folder, so only the tests that forge with them ever sign with them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from streams.domain.institutions import HUB_INSTITUTION, load_institutions
from streams.domain.keys import new_key_pair
from streams.domain.signing import SigningKey, read_signing_key
from streams.settings import Settings

#: Kinds of key that exist but vouch for nothing the tests send.
DATED_KINDS = ("expired", "revoked")
_SINCE = datetime(2000, 1, 1, tzinfo=UTC)
_UNTIL = datetime(2001, 1, 1, tzinfo=UTC)


def dated_key_dir(settings: Settings) -> Path:
    """Where the expired and revoked private keys are kept."""
    return settings.home / "dated-keys"


def add_dated_keys(settings: Settings) -> None:
    """Register an expired and a revoked key for every principal (once per home)."""
    folder = dated_key_dir(settings)
    if folder.exists():
        return
    principals = [HUB_INSTITUTION, *(i.id for i in load_institutions(settings.institutions_file))]
    entries = []
    for principal in principals:
        for kind in DATED_KINDS:
            key = new_key_pair(principal, _SINCE, _UNTIL if kind == "expired" else None)
            if kind == "revoked":
                key.entry.update(revoked_at=_UNTIL, reason="withdrawn by the test suite")
            path = folder / principal / f"{kind}.pem"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(key.private_pem)
            entries.append(key.registry_text())
    registry = settings.local_key_registry
    registry.write_text(registry.read_text(encoding="utf-8") + "\n" + "\n".join(entries))


def dated_key(settings: Settings, principal: str, kind: str) -> SigningKey:
    """The ``kind`` (expired or revoked) key of ``principal``."""
    return read_signing_key(dated_key_dir(settings) / principal / f"{kind}.pem", principal)
