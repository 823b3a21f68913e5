"""The directory %%title%% and Kawal exchange files through.

The system appends the records it sends to ``outbox.jsonl`` (one JSON object per line) and
reads what the connectors write into ``inbox/``: one JSON file per thing said, written whole
and renamed into place, so the system never reads half a file.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from connectors.base import ConnectorConfig, TransientError


class ExchangeConfig(ConnectorConfig):
    """Where the system's exchange directory is mounted."""

    share: Path


def outbox_lines(share: Path) -> list[bytes]:
    """The lines of ``outbox.jsonl``, undecoded: each is decoded on its own.

    Raises:
        TransientError: the share cannot be read.
    """
    try:
        return (share / "outbox.jsonl").read_bytes().splitlines()
    except OSError as exc:
        raise TransientError(f"exchange share unreachable ({type(exc).__name__})") from exc


def line_payload(line: bytes) -> dict[str, Any]:
    """A line as its record's payload, and whether it was UTF-8."""
    try:
        return {"line": line.decode(), "utf8": True}
    except UnicodeDecodeError:
        return {"line": line.decode(errors="replace"), "utf8": False}


def inbox(share: Path) -> Path:
    """The system's ``inbox/``.

    Raises:
        TransientError: it is missing (the share is not mounted).
    """
    found = share / "inbox"
    if not found.is_dir():
        raise TransientError("exchange share unreachable (inbox missing)")
    return found


def write_json(target: Path, content: dict[str, Any]) -> None:
    """Write ``content`` to ``target`` whole: the same name again replaces it (idempotent)."""
    partial = target.with_suffix(".part")
    partial.write_text(json.dumps(content, default=_iso))
    partial.replace(target)  # atomic: the system never reads half a file


def file_name_of(position: str) -> str:
    """A position (``FILE:LINE``, ``topic:partition:offset``) as part of a file name."""
    return position.replace(":", "_").replace("/", "_")


def _iso(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)
