"""Which demo events the broker acknowledged, kept in ``KAWAL_HOME/demo/sent`` across restarts.

The audit store says which demo events the hub recorded; this file says which ones an earlier
run sent, recorded or not yet. A restart of ``kawal up --demo`` sends neither again: the hub
reads the unrecorded ones from its backlog. One event id a line, appended once the broker
acknowledged them; event ids are no personal data.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from streams.private_files import open_private


def sent_file(home: Path) -> Path:
    """The file of the demo events sent from ``home``."""
    return home / "demo" / "sent"


def sent_event_ids(home: Path) -> set[str]:
    """The ids of the demo events an earlier run from ``home`` sent (none if it sent none)."""
    try:
        return set(sent_file(home).read_text(encoding="ascii").split())
    except FileNotFoundError:
        return set()


def record_sent(home: Path, event_ids: Iterable[str]) -> None:
    """Append ``event_ids``, acknowledged by the broker, to the file of sent demo events.

    A line cut short by a crash names no event, so that event is sent again: at least once.
    """
    lines = "".join(f"{event_id}\n" for event_id in event_ids)
    if not lines:
        return
    with os.fdopen(open_private(sent_file(home), os.O_WRONLY | os.O_APPEND), "a") as file:
        file.write(lines)
        file.flush()
        os.fsync(file.fileno())
