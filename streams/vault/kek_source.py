"""Where the key-encryption keys come from: ``KAWAL_KEK``, else the KEK file.

``KAWAL_KEK`` (``ID:BASE64``, several separated by commas, newest last) suits containers and
secrets a KMS or an orchestrator injects. Otherwise the TOML file ``KAWAL_KEK_FILE`` (default
``KAWAL_HOME/keys/kek.toml``) lists them, newest last::

    [[kek]]
    id = "kek-20261204-3fa9c1"
    created_at = 2026-12-04T03:00:00Z
    key = "<32 random bytes, base64>"

The file must be a regular file (not a symbolic link) that only its owner can read or write.
:func:`ensure_local_kek` makes it on one machine (``kawal keys init``, ``kawal up``);
:func:`add_kek` appends a new key (``kawal kek new``), which then wraps every new data key.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from streams.private_files import PrivateFileError, open_private, sync_folder
from streams.settings import Settings
from streams.vault.kek import KekError, KekRing, new_kek

__all__ = ["add_kek", "ensure_local_kek", "kek_source", "load_kek_ring", "ring_from_env"]

#: Fields a ``[[kek]]`` entry may have.
ENTRY_FIELDS = {"id", "key", "created_at"}
_HEADER = (
    "# Key-encryption keys of this hub, oldest first: the last one wraps new data keys, every\n"
    "# one unwraps. Keep this file mode 0600 and back it up apart from the vault. Remove a key\n"
    "# only once `kawal kek list` shows it wraps no data key (after `kawal kek rewrap`).\n"
)


def load_kek_ring(settings: Settings) -> KekRing:
    """The KEK ring of this hub: from ``KAWAL_KEK`` if set, else from the KEK file.

    Raises:
        KekError: the variable or the file is malformed; the file is missing, a symbolic
            link, not a regular file, or readable by others. The message says what to do and
            never shows key bytes.
    """
    if settings.kek is not None:
        return ring_from_env(settings.kek.get_secret_value())
    return _ring_from_text(_read_private(settings.effective_kek_file), settings.effective_kek_file)


def kek_source(settings: Settings) -> str:
    """Where :func:`load_kek_ring` reads: ``KAWAL_KEK`` or the KEK file's path."""
    return "KAWAL_KEK" if settings.kek is not None else str(settings.effective_kek_file)


def ring_from_env(text: str) -> KekRing:
    """The ring of a ``KAWAL_KEK`` value: ``ID:BASE64[,ID:BASE64...]``, newest last.

    Raises:
        KekError: empty, an entry without ``:``, or a key that is not base64 of 32 bytes;
            entries are named by position, never by their text.
    """
    if not text.strip():
        raise KekError("KAWAL_KEK is set but empty; unset it to use the KEK file, or fill it")
    keys = []
    for position, entry in enumerate(text.split(","), start=1):
        kek_id, colon, encoded = entry.strip().partition(":")
        if not colon:
            raise KekError(f"KAWAL_KEK entry {position} is not ID:BASE64")
        keys.append((kek_id, _decoded(encoded, f"KAWAL_KEK entry {position}")))
    return KekRing(keys)


def ensure_local_kek(settings: Settings) -> str | None:
    """Make the KEK file with one fresh KEK unless there are KEKs; check they open the vault.

    Returns:
        The new KEK's id, or None when there was nothing to make.

    Raises:
        KekError: the keys folder is a symbolic link; the KEKs are malformed; or the vault
            holds data keys wrapped under a KEK they lack (a lost or wrong KEK file, which must
            be restored: a fresh KEK would open none of them).
    """
    path = settings.effective_kek_file
    if settings.kek is not None or path.exists() or path.is_symlink():
        _check_covers_vault(settings, load_kek_ring(settings))
        return None
    kek_id, key = new_kek()
    _check_covers_vault(settings, KekRing([(kek_id, key)]), missing_file=True)
    _publish(path, _HEADER + _entry_text(kek_id, key), replace=False)
    return kek_id


def _check_covers_vault(settings: Settings, ring: KekRing, *, missing_file: bool = False) -> None:
    """Refuse a ring that lacks a KEK under which the vault keeps live data keys."""
    lacking = _keks_the_vault_needs(settings, ring) - set(ring.ids)
    if not lacking:
        return
    if settings.kek is not None:
        where = "KAWAL_KEK lacks them: add them to it"
    else:
        state = "is missing" if missing_file else "lacks them"
        where = (
            f"the KEK file {settings.effective_kek_file} (KAWAL_KEK_FILE) {state}: restore it "
            "from its backup (or set KAWAL_KEK to its keys)"
        )
    raise KekError(
        f"the vault ({_vault_name(settings)}) holds data keys wrapped under KEK "
        f"{', '.join(sorted(lacking))}, and {where} and start again; a new KEK would open "
        "none of them"
    )


def _keks_the_vault_needs(settings: Settings, ring: KekRing) -> set[str]:
    """The KEK ids the vault's live data keys are wrapped under; none when there is no vault."""
    from streams.vault.data_keys import DataKeyVault, VaultError

    try:
        vault = DataKeyVault.open_existing(settings.effective_vault_url, ring)
    except VaultError:
        return set()
    try:
        return set(vault.keys_per_kek())
    finally:
        vault.close()


def _vault_name(settings: Settings) -> str:
    """The vault's URL as an error may show it: without its password."""
    from sqlalchemy import make_url

    return make_url(settings.effective_vault_url).render_as_string(hide_password=True)


def add_kek(settings: Settings) -> str:
    """Append a fresh KEK to the KEK file (made if missing); it becomes the one that wraps.

    Running processes take it up at their next data key (:mod:`streams.vault.kek_follow`).

    Returns:
        The new KEK's id (never its key).

    Raises:
        KekError: ``KAWAL_KEK`` is set (the keys are not this file's to change), the file is
            malformed or not private, another ``kawal kek new`` is writing it, or the file is
            missing while the vault holds data keys (it must be restored: a file made anew
            would lack their KEKs).
    """
    if settings.kek is not None:
        raise KekError(
            "KAWAL_KEK is set, so the KEKs come from the environment, not a file: generate 32 "
            "random bytes (`head -c 32 /dev/urandom | base64`) and append ',ID:BASE64' to it"
        )
    path = settings.effective_kek_file
    exists = path.exists() or path.is_symlink()
    text = _read_private(path) if exists else _HEADER
    taken = set(_ring_from_text(text, path).ids) if exists else set()
    kek_id, key = new_kek()
    while kek_id in taken:
        kek_id, key = new_kek()
    if not exists:
        _check_covers_vault(settings, KekRing([(kek_id, key)]), missing_file=True)
    _publish(path, text.rstrip("\n") + "\n\n" + _entry_text(kek_id, key), replace=True)
    return kek_id


def _ring_from_text(text: str, path: Path) -> KekRing:
    if not text.strip():
        raise KekError(
            f"the KEK file {path} is empty: its writing was most likely interrupted (a full "
            "disk); restore it from its backup (docs/operations.md, Back up a one-machine "
            "hub): a new KEK would open none of the data keys wrapped under the old ones"
        )
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's messages give the line and column, never the text.
        raise KekError(f"{path} is not valid TOML ({exc}); fix it or restore it") from exc
    entries = document.get("kek")
    if not isinstance(entries, list) or not entries:
        raise KekError(f"{path} lists no [[kek]] entry; run `kawal kek new` to add one")
    return KekRing([_entry(item, position, path) for position, item in enumerate(entries, 1)])


def _entry(item: object, position: int, path: Path) -> tuple[str, bytes]:
    where = f"{path}: [[kek]] entry {position}"
    if not isinstance(item, dict):
        raise KekError(f"{where} is not a table")
    unknown = sorted(set(item) - ENTRY_FIELDS)
    if unknown:
        raise KekError(f"{where} has unknown fields {unknown}; it takes id, key and created_at")
    kek_id, encoded = item.get("id"), item.get("key")
    if not isinstance(kek_id, str) or not isinstance(encoded, str):
        raise KekError(f"{where} needs an id and a key, both strings")
    return kek_id, _decoded(encoded, where)


def _decoded(encoded: str, where: str) -> bytes:
    try:
        return base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KekError(f"{where}: the key is not base64") from exc


def _entry_text(kek_id: str, key: bytes) -> str:
    created = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    encoded = base64.b64encode(key).decode()
    return f'[[kek]]\nid = "{kek_id}"\ncreated_at = {created}\nkey = "{encoded}"\n'


def _read_private(path: Path) -> str:
    """The text of ``path``, if it is a regular file only its owner may read or write."""
    try:
        # O_NOFOLLOW: a symbolic link is refused by the open itself, not by a check before it.
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError as exc:
        raise KekError(
            f"no KEK file at {path}: restore it from its backup when the hub ran before (the "
            "vault's data keys are wrapped under its KEKs); for a new hub, run `kawal keys "
            "init` (one machine) or `kawal kek new`; or set KAWAL_KEK or KAWAL_KEK_FILE"
        ) from exc
    except OSError as exc:
        if path.is_symlink():
            raise KekError(
                f"{path} is a symbolic link; keep the KEK file as a regular file there"
            ) from exc
        raise KekError(f"cannot read the KEK file {path}: {exc.strerror}") from exc
    try:
        # Checked on the open file: what is read is what was checked.
        _check_private(path, os.fstat(descriptor))
    except KekError:
        os.close(descriptor)
        raise
    with os.fdopen(descriptor, "rb") as file:
        content = file.read()
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise KekError(f"{path} is not UTF-8 text; restore the KEK file") from exc


def _check_private(path: Path, status: os.stat_result) -> None:
    if not stat.S_ISREG(status.st_mode):
        raise KekError(f"{path} is not a regular file; the KEK file must be one")
    if stat.S_IMODE(status.st_mode) & 0o077:
        raise KekError(
            f"{path} can be read or written by others (mode "
            f"{stat.S_IMODE(status.st_mode):o}); run `chmod 600 {path}`"
        )


def _publish(path: Path, text: str, *, replace: bool) -> None:
    """Write ``text`` to ``path`` whole, mode 0600 from its creation, in a 0700 folder.

    The text goes to ``<path>.partial`` first, so a reader never sees half a file; O_EXCL on
    that name keeps two writers from mixing their keys. ``replace`` False never overwrites.
    """
    folder = path.parent
    partial = path.with_name(path.name + ".partial")
    try:
        descriptor = open_private(partial, os.O_WRONLY | os.O_EXCL)
    except FileExistsError as exc:
        raise KekError(
            f"{partial} exists: another `kawal kek new` is writing the KEK file, or one was "
            "interrupted; if none is running, remove that file and try again"
        ) from exc
    except PrivateFileError as exc:
        raise KekError(f"cannot keep key files there: {exc}") from exc
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        if replace:
            partial.replace(path)
        else:
            os.link(partial, path)
    except FileExistsError as exc:
        raise KekError(f"{path} exists; a KEK file is never overwritten") from exc
    except OSError as exc:
        # A full disk or a size limit: the partial file goes, the KEK file stays as it was.
        raise KekError(
            f"cannot write the KEK file {path} ({exc.strerror or type(exc).__name__}); it was "
            "left as it was: free space on that disk and run the command again"
        ) from exc
    finally:
        partial.unlink(missing_ok=True)
    # The rename is durable only once the folder is: a KEK lost in a crash loses its data.
    sync_folder(folder)
