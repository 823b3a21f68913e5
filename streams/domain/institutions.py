"""The registry of institutions connected to the hub, kept as data (``data/institutions.toml``)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from schemas.errors import KawalError
from streams.domain.data_files import read_toml

#: The hub's own principal: it signs receipts, entries, tree heads and deadline events.
HUB_INSTITUTION = "kawal"


class RegistryError(KawalError):
    """The institutions registry cannot be read or is inconsistent."""


@dataclass(frozen=True)
class Institution:
    """One institution: its id (also its topic suffix), role and display name."""

    id: str
    role: str
    name: str


def load_institutions(path: Path | None = None) -> tuple[Institution, ...]:
    """Load the registry from ``path``, or the bundled default.

    Raises:
        RegistryError: the file is missing, not TOML, or an entry lacks ``id`` or ``role``.
    """
    try:
        raw = read_toml(path, "institutions.toml")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegistryError(
            f"cannot read the institutions registry {path or '(bundled)'}: {exc}; "
            "fix the file or unset KAWAL_INSTITUTIONS_FILE"
        ) from exc
    entries = raw.get("institution", [])
    institutions = tuple(_parse(entry, index) for index, entry in enumerate(entries))
    ids = [inst.id for inst in institutions]
    if len(set(ids)) != len(ids):
        raise RegistryError("the institutions registry lists an id twice; ids must be unique")
    return institutions


def _parse(entry: dict[str, str], index: int) -> Institution:
    try:
        return Institution(id=entry["id"], role=entry["role"], name=entry.get("name", entry["id"]))
    except KeyError as exc:
        raise RegistryError(
            f"institution entry #{index + 1} lacks {exc.args[0]!r}; every entry needs id and role"
        ) from exc
