"""Revoking a registered key in the key registry file: ``kawal keys revoke``.

The entry of the key gets ``revoked_at`` and ``reason`` (:mod:`streams.domain.keys`); the rest
of the file (its comments, order and spacing) is kept as it was. The new text is checked as the
hub reads a registry before it replaces the old one, written whole beside it and renamed over
it with the old file's mode, so a reader never sees half a registry.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, InlineTable, Table

from schemas.errors import KawalError
from streams.domain.free_text import NAMES_SOMEONE, names_someone
from streams.domain.institutions import resembling
from streams.domain.key_pieces import piece_holding, read_piece
from streams.domain.keys import (
    KeyRegistry,
    KeyRegistryError,
    RegisteredKey,
    load_key_registry,
    parse_entry,
)


class KeyRevocationError(KawalError):
    """The key cannot be revoked as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Revoked:
    """A key just revoked, and what the registry holds for its institution afterwards."""

    entry: RegisteredKey
    registry: Path
    #: Ids of the other keys of the same institution and use valid now.
    successors: list[str]
    #: When the first of those became valid, if after the revocation: events dated between
    #: the two have no key (a backlog signed then must wait for a key valid from earlier).
    gap_until: datetime | None = None


def revoke_key(path: Path, key_id: str, reason: str, at: datetime) -> Revoked:
    """Mark ``key_id`` revoked at ``at`` for ``reason`` in the registry ``path``.

    ``path`` is a file, or a folder of pieces (``kawal keys split``): then the piece holding
    the entry is changed, and only its ConfigMap needs replacing.

    Raises:
        KeyRevocationError: an empty or multi-line reason, ``at`` in the future, an unknown or
            already revoked key, or a registry that cannot be read or written.
        KeyRegistryError: the registry holds entries the hub cannot use (fix them first).
    """
    reason = _checked_reason(reason)
    if at > datetime.now(UTC):
        raise KeyRevocationError(
            f"--at {at.isoformat()} lies in the future; a key is revoked from now, or from a "
            "past moment (when it leaked). To end a key's validity later, give its entry a "
            "valid_until instead"
        )
    registry = load_key_registry(path)
    entry = _registered(registry, key_id, path)
    if entry.revoked_at is not None:
        raise KeyRevocationError(
            f"key {key_id} is already revoked, since {entry.revoked_at.isoformat()} "
            f"({entry.reason}); nothing was changed (to correct when or why, edit its entry in "
            f"{path})"
        )
    held = piece_holding(path, key_id)
    _replace(held, _revoked_text(held, key_id, reason, at), key_id, reason, at)
    # Valid now, not at ``at``: a key revoked from a past moment (when it leaked) has its
    # successor made since, valid from a later moment.
    now = datetime.now(UTC)
    successors = [
        other
        for other in _entries(load_key_registry(path))
        if other.institution == entry.institution
        and other.use is entry.use
        and other.problem_at(now) is None
    ]
    earliest = min((other.valid_from for other in successors), default=None)
    gap_until = earliest if earliest is not None and earliest > at else None
    return Revoked(entry, held, [other.id for other in successors], gap_until)


def _checked_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise KeyRevocationError(
            "--reason is empty; say why the key is withdrawn (e.g. --reason "
            '"private key leaked from a laptop"): the key registry keeps it for the operators'
        )
    if any(not char.isprintable() for char in reason):
        raise KeyRevocationError(
            "--reason holds a line break or another control character; give it on one line"
        )
    if names_someone(reason):
        raise KeyRevocationError(
            f"--reason {NAMES_SOMEONE}; the key registry keeps it, and every institution holds "
            'that file, so say what happened without naming anyone (e.g. --reason "private '
            'key leaked from a laptop")'
        )
    return reason


def _entries(registry: KeyRegistry) -> list[RegisteredKey]:
    return [*registry.entries(), *registry.encryption_entries()]


def _registered(registry: KeyRegistry, key_id: str, path: Path) -> RegisteredKey:
    by_id = {entry.id: entry for entry in _entries(registry)}
    if key_id in by_id:
        return by_id[key_id]
    raise KeyRevocationError(
        f"no key {key_id[:140]!r} in the key registry {path}{resembling(key_id, by_id)}; give "
        "the id of its entry as it is written there (institution/fingerprint)"
    )


def _revoked_text(path: Path, key_id: str, reason: str, at: datetime) -> str:
    """The registry's text with ``revoked_at`` and ``reason`` added to the entry of ``key_id``."""
    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8"))
    except (OSError, TOMLKitError) as exc:
        raise KeyRevocationError(f"cannot read the key registry {path}: {exc}") from exc
    keys = document.get("key")
    tables = list(keys) if isinstance(keys, AoT | list) else []
    for table in tables:
        if isinstance(table, Table | InlineTable) and str(table.get("id")) == key_id:
            _mark(table, reason, at)
            return tomlkit.dumps(document)
    # load_key_registry found the entry in this very file; only a change in between lands here.
    raise KeyRevocationError(
        f"the entry of {key_id} changed in {path} while it was being revoked; run the command again"
    )


def _mark(table: Table | InlineTable, reason: str, at: datetime) -> None:
    """Add the two fields right after the entry's last field, before any comment below it."""
    container = table.value
    last = [key for key, _ in container.body if key is not None][-1]
    # tomlkit 0.15 (pinned) has no public insert; appending would put the fields after the
    # comments and blank lines that end the table, i.e. under the next entry's heading comment.
    if "reason" in table:
        table["reason"] = reason
    else:
        container._insert_after(last, "reason", reason)
    container._insert_after(last, "revoked_at", at)


def _replace(path: Path, text: str, key_id: str, reason: str, at: datetime) -> None:
    """Write ``text`` beside ``path`` with its mode, check it, and rename it over ``path``."""
    target = path.resolve()  # a link (a mounted ConfigMap) keeps pointing at the new text
    by_hand = (
        f"; make it writable by this user, or add to the entry of {key_id} by hand: "
        f"revoked_at = {at.isoformat()} and reason = {tomlkit.string(reason).as_string()}"
    )
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
        descriptor, partial = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
        )
    except OSError as exc:
        raise KeyRevocationError(
            f"cannot write the key registry {path} ({exc.strerror or exc}){by_hand}"
        ) from exc
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            os.fchmod(file.fileno(), mode)
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        # What the hub will read of this file (alone, if it is a piece): never replace with less.
        KeyRegistry(parse_entry(table.item) for table in read_piece(Path(partial)))
        os.replace(partial, target)
    except OSError as exc:
        raise KeyRevocationError(
            f"cannot write the key registry {path} ({exc.strerror or exc}){by_hand}"
        ) from exc
    except KeyRegistryError as exc:
        raise KeyRevocationError(
            f"revoking {key_id} would leave {path} unreadable ({exc}); nothing was changed"
        ) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
