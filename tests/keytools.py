"""Keys that must not vouch, and whether a private encryption key opens what was sealed.

The session hub's registry lists, for every principal, a key that expired and a key that was
revoked before any event the tests send; their private halves live apart from the key ring's
folder, so only the tests that forge with them ever sign with them. :func:`opens` seals with
the HPKE suite the hub's sealing uses (RFC 9180), so a key pair is proven by a round trip.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

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


#: HPKE base mode: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305.
SEALING = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.CHACHA20_POLY1305)


def opens(public: X25519PublicKey, private: X25519PrivateKey) -> bool:
    """Whether ``private`` opens what is sealed to ``public`` (each side as the hub will use it)."""
    sealed = SEALING.encrypt(b"x", public, info=b"t")
    try:
        return SEALING.decrypt(sealed, private, info=b"t") == b"x"
    except InvalidTag:
        return False
