"""A stand-in for the institution's system: a case register that exchanges files.

The system appends the reports it registers to ``outbox.jsonl`` (one JSON object per line)
and reads status updates the hub sends from ``inbox/`` (one file per event). When its share
is unmounted (``offline()``), both are unreachable, as a real network share would be.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class FileExchangeSystem:
    """The system's exchange directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.share = root / "share"
        (self.share / "inbox").mkdir(parents=True, exist_ok=True)
        (self.share / "outbox.jsonl").touch()

    def register_report(self, encoding: str = "utf-8", **overrides: Any) -> dict[str, Any]:
        """Register one report (as the system's users would); return it.

        ``encoding``: how the export job writes the line (a misconfigured one: ``cp1252``).
        """
        number = uuid.uuid4().hex[:8]
        report = {
            "id": f"R-{number}",
            "case_number": f"LP/{number}/2024",
            "reported_at": "2024-11-01T09:30:00+07:00",
            "election": "pilkada-2024",
            "region_code": "3374",
            "employing_agency": "ppk.3374",
            "violation": "ETHICS_SOCIAL_MEDIA_CAMPAIGN",
            "summary": "Shared campaign material in an official group.",
            "subject_nip": "198501012010011001",
            "subject_name": "Subject Name",
            "reporter": f"U-{number}",  # the system's own reference of the person
        } | overrides
        with (self.share / "outbox.jsonl").open("a", encoding=encoding) as outbox:
            outbox.write(json.dumps(report, ensure_ascii=False) + "\n")
        return report

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

    @contextmanager
    def offline(self) -> Iterator[None]:
        """The share is unmounted while inside the block."""
        hidden = self.root / "unmounted"
        shutil.move(self.share, hidden)
        try:
            yield
        finally:
            shutil.move(hidden, self.share)
