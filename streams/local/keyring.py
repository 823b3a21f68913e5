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
from streams.domain.keyring import KeyRing
from streams.domain.keys import (
    ENCRYPTION_FOLDER,
    KeyRegistry,
    KeyUse,
    NewKey,
    load_key_registry,
    new_key_pair_for,
)
from streams.partial_files import remove_stale_partials
from streams.private_files import (
    PrivateFileError,
    mend_write,
    private_dir,
    sync_folder,
    write_private_file,
)
from streams.settings import Settings
from streams.vault.kek_source import ensure_local_kek

#: Local keys vouch for events back to this date, so backlog imports verify on one machine.
LOCAL_KEYS_VALID_FROM = datetime(2000, 1, 1, tzinfo=UTC)
#: The local registry holds public keys only: anyone on the machine may read it.
REGISTRY_MODE = 0o644
_REGISTRY_HEADER = (
    "# The local key registry of this KAWAL_HOME, written by `kawal keys init` (and `kawal up`).\n"
    "# Public keys only; the private halves are in the folders beside this file.\n"
)


class KeyFileError(KawalError):
    """A private key cannot be written safely."""


def write_private_key(path: Path, pem: bytes) -> None:
    """Write ``pem`` whole to a new file of mode 0600 in a folder of mode 0700.

    Every folder it makes on the way is 0700 too (an encryption key's folder lies inside the
    institution's, which may not exist yet). The key is written beside its name, synced, then
    linked into place (:func:`write_private_file`): a full disk or a crash leaves no file at
    ``path``, never an empty or partial key that every process would refuse.

    Raises:
        KeyFileError: the file exists, the folder is a symlink or cannot be made private, or
            the write failed (nothing is left at ``path`` then).
    """
    try:
        # Never over another key (its public half may be registered); the mode is set at
        # creation, so the key is never readable by others, not even for a moment.
        write_private_file(path, pem)
    except FileExistsError as exc:
        raise KeyFileError(f"{path} exists; a key is never overwritten") from exc
    except PrivateFileError as exc:
        raise KeyFileError(f"cannot keep a private key there: {exc}") from exc
    except OSError as exc:
        raise KeyFileError(
            f"cannot write the private key {path} ({exc.strerror or type(exc).__name__}); "
            f"nothing was left there: {mend_write(exc)} and run the command again"
        ) from exc


def ensure_local_keys(settings: Settings) -> list[str]:
    """Make the signing and encryption keys the local registry lacks for the hub and institutions.

    A home made before encryption keys existed gets them, its signing keys left as they are.

    The hub's key-encryption key file is made too, if missing (:func:`ensure_local_kek`);
    first, the temporary files of key writes a killed process left are removed
    (:func:`remove_key_leftovers`).

    Returns:
        The ids of the keys made (none when every principal has both kinds).
    """
    remove_key_leftovers(settings.key_dir)
    ensure_local_kek(settings)
    registry = settings.local_key_registry
    text = registry.read_text(encoding="utf-8") if registry.exists() else _REGISTRY_HEADER
    made = [_make_key(settings, principal, use) for principal, use in _missing_keys(settings)]
    if made:
        private_dir(registry.parent)
        entries = "\n".join(key.registry_text() for key in made)
        _publish_registry(registry, text + "\n" + entries)
    return [key.key_id for key in made]


def remove_key_leftovers(folder: Path) -> list[Path]:
    """Remove the stale temporary files of key writes from a key folder; return them.

    In ``folder`` and each institution's folder in it, signing and encryption
    (:func:`streams.partial_files.remove_stale_partials`): the folders a key is written to.
    """
    owners = [sub for sub in folder.iterdir() if sub.is_dir()] if folder.is_dir() else []
    folders = [folder, *owners, *(owner / ENCRYPTION_FOLDER for owner in owners)]
    return [path for each in folders for path in remove_stale_partials(each)]


def _publish_registry(registry: Path, text: str) -> None:
    """Write the public registry whole (mode 0644), synced and renamed over the old one.

    A reader never sees half a registry, and a full disk or a crash leaves the old one: an
    empty registry would stop every process of the hub.
    """
    partial = registry.with_suffix(".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            os.fchmod(file.fileno(), REGISTRY_MODE)
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        partial.replace(registry)
    finally:
        partial.unlink(missing_ok=True)
    sync_folder(registry.parent)


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
