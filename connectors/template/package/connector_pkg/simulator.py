"""A stand-in for the institution's system: a register that exchanges files.

The system appends the %%records%% it sends to ``outbox.jsonl`` (one JSON object per line)
and reads what the connectors write to ``inbox/``: status updates (one file per event), the
hub's refusals (``refused-*.json``) and the lines the connector refused before sending them
(``rejected-*.json``). When its share is unmounted (``offline()``), both are unreachable, as
a real network share would be.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from %%package%%.samples import sample


class FileExchangeSystem:
    """The system's exchange directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.share = root / "share"
        (self.share / "inbox").mkdir(parents=True, exist_ok=True)
        (self.share / "outbox.jsonl").touch()

    def register_record(self, encoding: str = "utf-8", **overrides: Any) -> dict[str, Any]:
        """Register one record (as the system's users would); return it.

        ``encoding``: how the export job writes the line (a misconfigured one: ``cp1252``).
        """
        record = sample(uuid.uuid4().hex[:8]) | overrides
        with (self.share / "outbox.jsonl").open("a", encoding=encoding) as outbox:
            outbox.write(json.dumps(record, ensure_ascii=False) + "\n")
        return record

    def rotate(self) -> None:
        """Keep the export as ``outbox.jsonl.1`` and start an empty one, as log rotation does."""
        outbox = self.share / "outbox.jsonl"
        outbox.replace(self.share / "outbox.jsonl.1")
        outbox.touch()

    def write_garbage(self) -> None:
        """A line the system's export job corrupted."""
        with (self.share / "outbox.jsonl").open("a") as outbox:
            outbox.write('{"id": "R-broken", "case_number": \n')

    def status_updates(self, event_id: str) -> int:
        """How many status updates the system holds for ``event_id``."""
        return len(list((self.share / "inbox").glob(f"{event_id}.json")))

    def rejections(self) -> list[dict[str, Any]]:
        """The lines the connector refused before sending them, as the system reads them."""
        found = sorted((self.share / "inbox").glob("rejected-*.json"))
        return [json.loads(path.read_text()) for path in found]

    @contextmanager
    def offline(self) -> Iterator[None]:
        """The share is unmounted while inside the block."""
        hidden = self.root / "unmounted"
        shutil.move(self.share, hidden)
        try:
            yield
        finally:
            shutil.move(hidden, self.share)
