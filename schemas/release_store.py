"""The store of released schema versions, ``schemas/releases/<full name>/v<N>.*``.

A release is immutable: once ``v<N>.avsc`` is written, it is the contract every institution
that adopted version N may still be writing or reading. The layout and the encodings are
described in ``schemas/releases/README.md``.

A message schema gets a new version when its *contract form* differs from its latest release:
the attributes a reader's schema resolution depends on, as JSON with sorted keys. Unlike the
Parsing Canonical Form (the fingerprint's input) it keeps defaults, aliases, logical types and
enum defaults, since each changes how a reader resolves the data. Documentation and Kawal's own
attributes (``kawal.personal_data``, ``kawal.emitted_by``, ...) are left out: they describe how
the hub treats a message today, not what is on the wire, so changing them makes no new version.

Example:
    >>> contract_form({"type": "enum", "name": "a.E", "symbols": ["A"], "doc": "Letters."})
    '{"name":"a.E","symbols":["A"],"type":"enum"}'
"""

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from fastavro.schema import parse_schema

from schemas.errors import KawalError

DEFAULT_RELEASES_DIRECTORY = Path(__file__).parent / "releases"
_VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.avsc$")
# Readable order for the keys of a released schema and of its fields; other keys in between.
_TYPE_ORDER = ("type", "name", "aliases", "doc", "logicalType", "precision", "scale", "size")
_FIELD_ORDER = ("name", "aliases", "doc", "type")
_LAST_KEYS = ("symbols", "default", "items", "values", "fields")
# What a reader's schema resolution reads; of a field too (name, type, default, aliases).
_CONTRACT_KEYS = frozenset(
    {"type", "name", "aliases", "fields", "symbols", "default", "items", "values", "size"}
    | {"logicalType", "precision", "scale"}
)


class ReleaseStoreError(KawalError):
    """The release store is unreadable or would be left inconsistent."""


@dataclass(frozen=True)
class Release:
    """One released version of one message schema, and its files."""

    full_name: str
    version: int
    directory: Path

    @property
    def schema_path(self) -> Path:
        """``v<N>.avsc``: the self-contained schema of this version."""
        return self.directory / f"v{self.version}.avsc"

    @property
    def golden_avro(self) -> Path:
        """``v<N>.golden.avro``: golden records in an Avro container file."""
        return self.directory / f"v{self.version}.golden.avro"

    @property
    def golden_json(self) -> Path:
        """``v<N>.golden.json``: the golden records in the Avro JSON encoding."""
        return self.directory / f"v{self.version}.golden.json"

    @property
    def label(self) -> str:
        """``v<N>``, as messages name the version."""
        return f"v{self.version}"

    @cached_property
    def schema(self) -> Any:
        """The released schema, parsed by fastavro.

        Raises:
            ReleaseStoreError: the file is missing or not a valid schema.
        """
        try:
            return parse_schema(json.loads(self.schema_path.read_text(encoding="utf-8")), {})
        except Exception as exc:  # OSError, JSON or any of fastavro's parse errors
            raise ReleaseStoreError(
                f"cannot load release {self.full_name} {self.label} from {self.schema_path}: "
                f"{exc}; restore the file from version control (releases are immutable)"
            ) from exc


class ReleaseStore:
    """The released versions in one directory, one subdirectory per message full name."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or DEFAULT_RELEASES_DIRECTORY

    def names(self) -> tuple[str, ...]:
        """Full names of the messages with at least one release, sorted."""
        if not self.directory.is_dir():
            return ()
        return tuple(
            sorted(path.name for path in self.directory.iterdir() if self._versions_in(path))
        )

    def releases(self, full_name: str) -> tuple[Release, ...]:
        """The releases of one message, oldest first; empty if it was never released.

        Raises:
            ReleaseStoreError: the versions are not numbered 1, 2, ... without gaps.
        """
        numbers = self._versions_in(self.directory / full_name)
        if numbers != list(range(1, len(numbers) + 1)):
            raise ReleaseStoreError(
                f"releases of {full_name} are numbered {numbers}, expected 1..{len(numbers)}; "
                "restore the missing versions from version control"
            )
        return tuple(Release(full_name, n, self.directory / full_name) for n in numbers)

    def latest(self, full_name: str) -> Release | None:
        """The newest release of a message, or None."""
        releases = self.releases(full_name)
        return releases[-1] if releases else None

    def add(self, full_name: str, schema: Any) -> Release:
        """Writes the next version's schema file (golden records are written by the caller).

        Args:
            full_name: the message's full name.
            schema: the schema as the catalogue parsed it; written self-contained.
        """
        latest = self.latest(full_name)
        release = Release(
            full_name, latest.version + 1 if latest else 1, self.directory / full_name
        )
        release.directory.mkdir(parents=True, exist_ok=True)
        text = json.dumps(released_form(schema), indent=2, ensure_ascii=False)
        release.schema_path.write_text(text + "\n", encoding="utf-8")
        return release

    @staticmethod
    def _versions_in(directory: Path) -> list[int]:
        if not directory.is_dir():
            return []
        found = (_VERSION_FILE.match(path.name) for path in directory.iterdir())
        return sorted(int(match.group(1)) for match in found if match)


def contract_form(schema: Any) -> str:
    """Returns the attributes that matter to schema resolution, as compact sorted JSON."""
    return json.dumps(_contract(released_form(schema)), sort_keys=True, separators=(",", ":"))


def released_form(schema: Any) -> Any:
    """Returns a parsed schema as plain, self-contained JSON data with readable key order.

    fastavro's parsed form already inlines every named type at its first use and gives full
    names; this drops fastavro's bookkeeping keys (``__fastavro_parsed``, ...).
    """
    parsed = parse_schema(schema, {})
    return _plain(parsed)


def _plain(schema: Any, first: tuple[str, ...] = _TYPE_ORDER) -> Any:
    if isinstance(schema, list):
        return [_plain(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    keys = [key for key in schema if not key.startswith("__")]
    ordered = (
        [key for key in first if key in keys]
        + sorted(key for key in keys if key not in first + _LAST_KEYS)
        + [key for key in _LAST_KEYS if key in keys]
    )
    plain = {key: _plain(schema[key]) for key in ordered}
    # A default is a value, not a schema: copied as it is.
    if "default" in plain:
        plain["default"] = schema["default"]
    if "fields" in plain:
        plain["fields"] = [_plain(field, _FIELD_ORDER) for field in schema["fields"]]
    return plain


def _contract(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_contract(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kept = {key: value for key, value in schema.items() if key in _CONTRACT_KEYS}
    for key in ("type", "items", "values"):
        if key in kept:
            kept[key] = _contract(kept[key])
    if "fields" in kept:
        kept["fields"] = [_contract(field) for field in kept["fields"]]
    return kept
