"""Reading a private key file, and what to say when it cannot be read.

Every private key of the hub and of an institution (signing and encryption) is a PKCS#8 PEM
file named after its key's fingerprint (:func:`streams.domain.keys.private_key_path`), so the
key id of a file that does not parse is still known from its name, and whether the registry
lists it tells what to do. A file that is empty or does not parse was most likely cut short
by a full disk or a crash while it was written (the project writes keys whole since:
:func:`streams.private_files.write_private_file`, but an older release or a copy by hand may
not have): a registered key's file is restored from the backup of the keys folder, an
unregistered one is removed. Making a new key is never the fix of a damaged file: a new key
has another fingerprint, and the damaged file would still be in the way.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from schemas.errors import KawalError
from streams.domain.keys import KeyRegistry

#: Where the operator finds what to back up, and so what to restore from.
BACKUP_DOC = "docs/operations.md, Back up a one-machine hub"


def load_private_key(
    path: Path,
    institution: str,
    registry: KeyRegistry | None,
    error: type[KawalError],
) -> PrivateKeyTypes:
    """The private key in the PEM file ``path`` of ``institution``.

    Args:
        path: The key file, ``<fingerprint>.pem``.
        institution: Its owner (the key id is ``<institution>/<fingerprint>``).
        registry: The key registry in force, to say whether the key is registered; None
            when the caller has none (both remedies are said then).
        error: The error to raise.

    Raises:
        KawalError: (of ``error``) the file cannot be read, is empty, or holds no PEM private
            key. The message names the file, never its content: it is a secret.
    """
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise error(
            f"cannot read the private key file {path} ({exc.strerror or type(exc).__name__}); "
            "it must be a regular file of the user the hub runs as, mode 0600"
        ) from None
    if not content.strip():
        raise error(_damaged(path, institution, registry, "is empty"))
    try:
        return serialization.load_pem_private_key(content, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise error(
            _damaged(path, institution, registry, "is damaged (it holds no PEM private key)")
        ) from None


def _damaged(path: Path, institution: str, registry: KeyRegistry | None, state: str) -> str:
    """What an empty or damaged key file means, and what to do about it."""
    key_id = f"{institution}/{path.stem}"
    said = (
        f"the private key file {path} {state}: its writing was most likely interrupted (a full "
        "disk, a crash). "
    )
    restore = f"restore the file from the backup of the keys folder ({BACKUP_DOC})"
    remove = "remove the file (nothing was signed or sealed with it)"
    registered = None if registry is None else is_registered(registry, key_id)
    if registered is True:
        return said + f"{key_id} is in the key registry: {restore}"
    if registered is False:
        return said + f"{key_id} is in no entry of the key registry: {remove}"
    return said + f"If {key_id} is in the key registry, {restore}; if it never was, {remove}"


def is_registered(registry: KeyRegistry, key_id: str) -> bool:
    """Whether ``key_id`` is in ``registry``, as a signing or an encryption key."""
    return registry.signing_entry(key_id) is not None or (
        registry.encryption_entry(key_id) is not None
    )
