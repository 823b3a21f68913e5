"""Canaries: a unique value in every personal-data field, and the places to look for them.

A canary is ``canary-<field>-<event type>-<uuid4 hex>``: found anywhere, it names the field and
the event it was planted in; in a NIP field, which ingress takes only as 18 digits, it is 18
random digits remembered with their field. :func:`plant` fills every personal-data field of a
record (schema attribute ``kawal.personal_data``) with one; :func:`found_in` says which
canaries some bytes hold, in clear or hex-encoded (the form bytes take in JSON views and in
``pg_dump``); :func:`every_record` reads every record of every topic of a broker, and
:func:`files_holding` every file under a folder.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient

from schemas.catalog import SchemaCatalog
from streams.broker.topic_end import read_to_end

#: Longest wait for a broker to hand over every record it holds, in seconds.
READ_SECONDS = 60.0


@dataclass(frozen=True)
class Canary:
    """One planted value and the event field it was planted in."""

    case_id: str
    event_id: str
    event_type: str
    field: str
    value: str

    @property
    def needles(self) -> tuple[bytes, bytes]:
        """The value's UTF-8 bytes, and the same bytes hex-encoded (as bytea and JSON show them)."""
        plain = self.value.encode()
        return plain, plain.hex().encode()


def plant(catalog: SchemaCatalog, event_type: str, record: dict[str, Any]) -> list[Canary]:
    """Put a fresh canary in every personal-data field of ``record`` (changed in place).

    Fields that were None get one too, so every personal-data field of the event holds a value.
    """
    envelope = record["envelope"]
    planted = []
    for path in catalog.personal_data_fields(event_type):
        value = _canary(path, event_type)
        _set(record, path, value)
        planted.append(Canary(envelope["case_id"], envelope["event_id"], event_type, path, value))
    return planted


def _canary(path: str, event_type: str) -> str:
    """A fresh canary for ``path``: a NIP field gets 18 digits, as ingress takes no other NIP."""
    field = path.replace(".", "_")
    if not field.endswith("nip"):
        return f"canary-{field}-{event_type}-{uuid.uuid4().hex}"
    value = f"9{uuid.uuid4().int % 10**17:017d}"
    _NUMBERED[value] = f"{event_type}.{field}"
    return value


#: ``EventType.field`` of each canary planted as digits, which cannot name themselves.
_NUMBERED: dict[str, str] = {}


def _set(record: dict[str, Any], path: str, value: str) -> None:
    *parents, name = path.split(".")
    inner = record
    for parent in parents:
        assert isinstance(inner.get(parent), dict), f"fill {parent} before planting {path}"
        inner = inner[parent]
    inner[name] = value


def found_in(data: bytes, canaries: Iterable[Canary]) -> set[str]:
    """The values of ``canaries`` that ``data`` holds, in clear or hex-encoded."""
    return {c.value for c in canaries if any(needle in data for needle in c.needles)}


def labels(values: Iterable[str]) -> set[str]:
    """``EventType.field`` of each canary value, read back from the value itself."""
    return {_NUMBERED.get(value) or "{2}.{1}".format(*value.split("-", 3)) for value in values}


@dataclass(frozen=True)
class BrokerRecord:
    """One record as the broker holds it: where it is, its key, value and headers."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    @property
    def where(self) -> tuple[str, int, int]:
        """Topic, partition and offset."""
        return self.topic, self.partition, self.offset

    @property
    def raw(self) -> bytes:
        """Every byte of the record: key, value, header names and values."""
        parts = [self.key or b"", self.value or b""]
        parts += [name.encode() + b"\x00" + (value or b"") for name, value in self.headers]
        return b"\x00".join(parts)


def every_record(bootstrap: list[str]) -> list[BrokerRecord]:
    """Every record of every topic the broker lists, from the start of each partition."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kawal-canary-scan")
    try:
        topics = sorted(admin.list_topics())
    finally:
        admin.close()
    return [
        BrokerRecord(r.topic, r.partition, r.offset, r.key, r.value, tuple(r.headers or ()))
        for r in read_to_end(bootstrap, topics, READ_SECONDS)
    ]


def files_holding(root: Path, canaries: Iterable[Canary]) -> dict[str, set[str]]:
    """Each file under ``root`` (relative path) that holds canaries, with their values."""
    planted = list(canaries)
    found: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue  # a process's temporary file, gone since it was listed
        hits = found_in(data, planted)
        if hits:
            found[str(path.relative_to(root))] = hits
    return found
