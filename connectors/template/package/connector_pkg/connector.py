"""%%title%% ⇄ Kawal through a shared directory.

``Inbound`` reads the system's ``outbox.jsonl`` (a line number is the checkpoint) and maps each
report to a ``ReportReceived``; ``Outbound`` writes each feed entry as ``inbox/<event_id>.json``
(writing the same event again replaces the same file: idempotent).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from connectors.base import (
    ConnectorConfig,
    Event,
    FeedEntry,
    InboundConnector,
    OutboundConnector,
    PermanentError,
    SourceRecord,
    TransientError,
)
from connectors.ids import event_id_for
from schemas.envelope import envelope
from schemas.identity import case_id_for


class ExchangeConfig(ConnectorConfig):
    """Where the system's exchange directory is mounted."""

    share: Path


class Inbound(InboundConnector[ExchangeConfig]):
    """Reports registered by the system → ``ReportReceived``."""

    name = "%%name%%-inbound"

    def read(self, after: str | None, limit: int) -> Sequence[SourceRecord]:
        """Lines of ``outbox.jsonl`` after line number ``after``."""
        try:
            lines = (self.config.share / "outbox.jsonl").read_text().splitlines()
        except OSError as exc:
            raise TransientError(f"exchange share unreachable ({type(exc).__name__})") from exc
        start = int(after) if after else 0
        return [
            SourceRecord(position=str(number), payload={"line": line}, source_id=f"line {number}")
            for number, line in enumerate(lines[start : start + limit], start=start + 1)
        ]

    def to_events(self, record: SourceRecord) -> list[Event]:
        """One ``ReportReceived`` per report line."""
        try:
            report = json.loads(record.payload["line"])
            return [Event("ReportReceived", self._report(report))]
        except (ValueError, KeyError, TypeError) as exc:
            raise PermanentError(
                "unmappable_record",
                f"not a complete report ({type(exc).__name__}); correct it in the system",
            ) from None

    def _report(self, report: dict[str, Any]) -> dict[str, Any]:
        institution = self.institution
        return {
            "envelope": envelope(
                event_id=event_id_for(institution, report["id"], "ReportReceived"),
                case_id=case_id_for(institution, report["case_number"]),
                event_type="ReportReceived",
                event_time=datetime.fromisoformat(report["reported_at"]),
                source=institution,
                actor_ref=f"system:{institution}",
            ),
            "case_number": report["case_number"],
            "election": report["election"],
            "region_code": report["region_code"],
            "employing_agency": report["employing_agency"],
            "violation": report["violation"],
            "discovered_on": datetime.fromisoformat(report["reported_at"]).date(),
            "summary": report["summary"],
            "subject_nip": report["subject_nip"],
            "subject_name": report["subject_name"],
            "reporter_ref": f"reporter:{report['id']}",
            "reporter_identity": None,
        }


class Outbound(OutboundConnector[ExchangeConfig]):
    """Feed entries → ``inbox/<event_id>.json`` status updates."""

    name = "%%name%%-outbound"

    def deliver(self, entry: FeedEntry) -> None:
        """Write the status update of one entry (idempotent: one file per event id)."""
        inbox = self.config.share / "inbox"
        if not inbox.is_dir():
            raise TransientError("exchange share unreachable (inbox missing)")
        update = {
            "case_id": entry.case_id,
            "seq": entry.entry["seq"],
            "event_type": entry.event_type,
            "hash": entry.entry["hash"],
            "event_time": entry.event["envelope"]["event_time"],
        }
        target = inbox / f"{entry.event_id}.json"
        partial = target.with_suffix(".part")
        partial.write_text(json.dumps(update, default=_iso))
        partial.replace(target)  # atomic: the system never reads half a file


def _iso(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)
