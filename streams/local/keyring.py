"""Private key files, and the keys of a hub and its institutions on one machine.

:func:`write_private_key` writes a key so that nobody else can read it, never over another
one. :func:`ensure_local_keys` gives ``kawal up`` (and the tests) what production gets from
each institution: a signing key pair and an encryption key pair for the hub and every
registered institution, their private halves in ``KAWAL_HOME/keys/<institution>/`` (encryption
keys in its ``encryption/`` subfolder) and their public halves in the local registry
``KAWAL_HOME/keys/registry.toml``, which the hub reads when ``KAWAL_KEYS_FILE`` is unset; and
the hub's key-encryption key file ``KAWAL_HOME/keys/kek.toml``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from schemas.errors import KawalError
from streams.domain.institutions import HUB_INSTITUTION, load_institutions
from streams.domain.keys import (
    KeyRegistry,
    KeyUse,
    NewKey,
    load_key_registry,
    new_key_pair_for,
)
from streams.domain.signing import KeyRing
from streams.private_files import PrivateFileError, open_private, private_dir
from streams.settings import Settings
from streams.vault.kek_source import ensure_local_kek

#: Local keys vouch for events back to this date, so backlog imports verify on one machine.
LOCAL_KEYS_VALID_FROM = datetime(2000, 1, 1, tzinfo=UTC)
_REGISTRY_HEADER = (
    "# The local key registry of this KAWAL_HOME, written by `kawal keys init` (and `kawal up`).\n"
    "# Public keys only; the private halves are in the folders beside this file.\n"
)


class KeyFileError(KawalError):
    """A private key cannot be written safely."""


def write_private_key(path: Path, pem: bytes) -> None:
    """Write ``pem`` to a new file of mode 0600 in a folder of mode 0700.

    Every folder it makes on the way is 0700 too (an encryption key's folder lies inside the
    institution's, which may not exist yet).

    Raises:
        KeyFileError: the file exists, or the folder is a symlink or cannot be made private.
    """
    try:
        # O_EXCL: never overwrite a key (its public half may be registered); the mode is set
        # at creation, so the key is never readable by others, not even for a moment.
        descriptor = open_private(path, os.O_WRONLY | os.O_EXCL)
    except FileExistsError as exc:
        raise KeyFileError(f"{path} exists; a key is never overwritten") from exc
    except PrivateFileError as exc:
        raise KeyFileError(f"cannot keep a private key there: {exc}") from exc
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)


def ensure_local_keys(settings: Settings) -> list[str]:
    """Make the signing and encryption keys the local registry lacks for the hub and institutions.

    A home made before encryption keys existed gets them, its signing keys left as they are.

    The hub's key-encryption key file is made too, if missing (:func:`ensure_local_kek`).

    Returns:
        The ids of the keys made (none when every principal has both kinds).
    """
    ensure_local_kek(settings)
    registry = settings.local_key_registry
    text = registry.read_text(encoding="utf-8") if registry.exists() else _REGISTRY_HEADER
    made = [_make_key(settings, principal, use) for principal, use in _missing_keys(settings)]
    if made:
        private_dir(registry.parent)
        # Written whole and renamed: a reader never sees half a registry.
        partial = registry.with_suffix(".partial")
        entries = "\n".join(key.registry_text() for key in made)
        partial.write_text(text + "\n" + entries, encoding="utf-8")
        partial.replace(registry)
    return [key.key_id for key in made]


def _missing_keys(settings: Settings) -> list[tuple[str, KeyUse]]:
    """Each principal and kind of key the local registry has no entry for.

    Raises:
        streams.domain.keys.KeyRegistryError: the local registry cannot be read.
    """
    registry = settings.local_key_registry
    held = load_key_registry(registry) if registry.exists() else KeyRegistry([])
    keyed = {(entry.institution, entry.use) for entry in held.entries()} | {
        (entry.institution, entry.use) for entry in held.encryption_entries()
    }
    # The institutions registry may list the hub too; each principal gets one key of a kind.
    principals = dict.fromkeys(
        [HUB_INSTITUTION, *(i.id for i in load_institutions(settings.institutions_file))]
    )
    return [
        (principal, use)
        for principal in principals
        for use in KeyUse
        if (principal, use) not in keyed
    ]


def _make_key(settings: Settings, principal: str, use: KeyUse) -> NewKey:
    """A ``use`` key of ``principal``, its private half written under ``KAWAL_HOME/keys``."""
    key = new_key_pair_for(use, principal, LOCAL_KEYS_VALID_FROM)
    write_private_key(key.path_in(settings.key_dir), key.private_pem)
    return key


def keyring_of(settings: Settings) -> KeyRing:
    """The private keys held under ``KAWAL_HOME/keys``, chosen by the registry in force."""
    return KeyRing(settings.key_dir, load_key_registry(settings.key_registry_file))
