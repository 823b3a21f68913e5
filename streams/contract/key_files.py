"""Private keys in a pod: copied out of their Secrets into memory, where and as the code reads them.

Kubernetes writes each key of a Secret volume as a symbolic link (``kek.toml ->
..data/kek.toml``), and with the pod's ``fsGroup`` makes the file it points to readable by the
group whatever ``defaultMode`` asks (kubernetes/kubernetes#57923); a ``subPath`` mount of one
key is a regular file, but with that same mode, and it is owned by root. The hub reads its
key-encryption keys only from a regular file that no one but its owner may read
(:mod:`streams.vault.kek_source`), and private keys only in the layout ``kawal keys new``
writes, ``KAWAL_HOME/keys/<institution>/<id>.pem`` and ``.../<institution>/encryption/<id>.pem``,
which no Secret can hold (its keys have no ``/``).

So the Secrets are mounted in an init container alone, which copies their files as the pod's
user with umask 077 (files 0400, folders 0700) into an ``emptyDir`` in memory mounted at
``KAWAL_HOME/keys``, in that layout; the process mounts it read-only. Each Secret holds flat
files: ``kubectl create secret generic kawal-keys --from-file=keys/kawal/`` takes the signing
keys (a folder's regular files, not its ``encryption/`` subfolder), ``--from-file=
keys/kawal/encryption/`` the encryption keys. The pod's ``fsGroup`` lets the init container
read the Secrets' files. The key registry is public: ConfigMaps, read where they are mounted.
A national registry outgrows one ConfigMap (1 MiB) at its first round of rotations, so it is
delivered in pieces (``kawal keys split``), one ConfigMap ``kawal-key-registry-<n>`` each,
projected together into the folder ``KAWAL_KEYS_FILE`` names (:mod:`streams.domain.key_pieces`).

Example:
    >>> [files.folder for files in hub_key_files()]
    ['', 'kawal', 'kawal/encryption']
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keys import ENCRYPTION_FOLDER

Json = dict[str, Any]

#: The ConfigMaps holding the key registry's pieces (``<prefix>-<n>``, each ``keys-<n>.toml``),
#: and the folder they are projected into: ``KAWAL_KEYS_FILE``.
KEY_REGISTRY = "kawal-key-registry"
KEY_REGISTRY_DIR = "/etc/kawal/key-registry"
#: Pieces a pod mounts, each optional: the registry reader refuses a folder missing one of the
#: pieces a split wrote. 16 pieces of 960 KiB hold about 18 rounds of national rotations.
KEY_REGISTRY_PIECES = 16
#: The variable naming the institution whose keys a connector's pod copies.
INSTITUTION_VARIABLE = "INSTITUTION"
_VOLUME = "keys"
_SECRETS_DIR = "/etc/kawal/secrets"
#: Copies the files of one Secret into one folder; fails, naming the Secret, if none matches.
_COPY = """set -eu
umask 077
copy() {
  found=
  mkdir -p "$3"
  for file in "$1"/$2; do
    if [ -f "$file" ]; then cp -f "$file" "$3/"; found=yes; fi
  done
  if [ -z "$found" ]; then echo "the Secret $4 holds no $2" >&2; exit 1; fi
}
"""


@dataclass(frozen=True)
class SecretFiles:
    """The files of one Secret and the folder of the key folder they go to.

    Attributes:
        volume: The Secret's volume in the pod.
        secret: The Secret's name.
        pattern: Which of its files: a name, or a shell pattern such as ``*.pem``.
        folder: Relative to the key folder (``''``: the key folder itself); may name
            ``$INSTITUTION``, set in the init container.
    """

    volume: str
    secret: str
    pattern: str
    folder: str


def hub_key_files() -> list[SecretFiles]:
    """The hub's key-encryption keys (``kawal-kek``), its own signing and encryption keys."""
    return [
        SecretFiles("kek", "kawal-kek", "kek.toml", ""),
        *_principal_files("kawal-", HUB_INSTITUTION),
    ]


def connector_key_files(connector: str) -> list[SecretFiles]:
    """The signing and encryption keys of the institution a connector speaks for."""
    return _principal_files(f"kawal-connector-{connector}-", f"${INSTITUTION_VARIABLE}")


def _principal_files(prefix: str, institution: str) -> list[SecretFiles]:
    """``<prefix>keys`` (signing keys) and ``<prefix>encryption-keys`` of ``institution``."""
    return [
        SecretFiles("signing-keys", f"{prefix}keys", "*.pem", institution),
        SecretFiles(
            "encryption-keys",
            f"{prefix}encryption-keys",
            "*.pem",
            f"{institution}/{ENCRYPTION_FOLDER}",
        ),
    ]


def copy_script(files: Sequence[SecretFiles], key_dir: str) -> str:
    """The shell script of the init container: every Secret's files into ``key_dir``."""
    lines = [_COPY]
    for each in files:
        target = f"{key_dir}/{each.folder}".rstrip("/")
        # The target is double-quoted so that $INSTITUTION expands; it holds no other "$".
        lines.append(
            f'copy {_SECRETS_DIR}/{each.volume} {shlex.quote(each.pattern)} "{target}" '
            f"{each.secret}\n"
        )
    return "".join(lines)


def key_volumes(
    files: Sequence[SecretFiles], key_dir: str, image: str, env: Sequence[Json] = ()
) -> tuple[Json, list[Json], Json]:
    """The init container, the pod's volumes and the process's mount of ``key_dir``.

    Args:
        files: What to copy.
        key_dir: ``KAWAL_HOME/keys`` of the process.
        image: The hub's image (it has a POSIX shell and coreutils).
        env: Variables of the init container (``INSTITUTION`` for a connector).
    """
    secrets = [
        {"name": each.volume, "secret": {"secretName": each.secret, "defaultMode": 0o400}}
        for each in files
    ]
    memory = {"name": _VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}}
    mounts = [
        {"name": each.volume, "mountPath": f"{_SECRETS_DIR}/{each.volume}", "readOnly": True}
        for each in files
    ]
    mounts.append({"name": _VOLUME, "mountPath": key_dir})
    init = {
        "name": "keys",
        "image": image,
        "command": ["/bin/sh", "-c", copy_script(files, key_dir)],
        **({"env": list(env)} if env else {}),
        "volumeMounts": mounts,
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True},
    }
    return init, [*secrets, memory], {"name": _VOLUME, "mountPath": key_dir, "readOnly": True}


def registry_volume() -> tuple[Json, Json]:
    """The key registry's pieces as one projected volume, and its mount (``KAWAL_KEYS_FILE``).

    Each piece's ConfigMap is optional, so a registry of fewer pieces mounts as well; a piece
    missing from a split is the registry reader's clear error, not a pod stuck in creation.
    """
    sources = [
        {"configMap": {"name": f"{KEY_REGISTRY}-{number}", "optional": True}}
        for number in range(1, KEY_REGISTRY_PIECES + 1)
    ]
    volume = {"name": "key-registry", "projected": {"sources": sources}}
    return volume, {"name": "key-registry", "mountPath": KEY_REGISTRY_DIR, "readOnly": True}
