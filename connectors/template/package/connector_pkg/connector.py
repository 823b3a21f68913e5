"""%%title%% ⇄ Kawal through a shared directory.

``Inbound`` reads the system's ``outbox.jsonl`` (the checkpoint is the file, by a digest of
its first line, and a line number in it) and maps each report to a ``ReportReceived``; ``Outbound`` writes each feed entry as ``inbox/<event_id>.json``
(writing the same event again replaces the same file: idempotent), and each refusal of one of the
system's records by the hub as ``inbox/refused-<inbound position>.json``, with what to correct.

A report that cannot be mapped is refused on its own with a ``PermanentError``: the hub
dead-letters it, naming its line, and goes on with the next. Reasons name fields, never their
values, which may be personal data. The reporter never leaves as the system knows them:
``reporter_ref`` is their per-case pseudonym under the key in ``pseudonym_key_file``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from connectors.base import (
    ConnectorConfig,
    ConnectorContext,
    Event,
    FeedEntry,
    HubRefusal,
    InboundConnector,
    OutboundConnector,
    PermanentError,
    SourceRecord,
    TransientError,
)
from connectors.ids import event_id_for
from connectors.pseudonyms import case_pseudonym, kept_key
from schemas.envelope import envelope
from schemas.field_formats import is_nip
from schemas.identity import case_id_for

log = logging.getLogger(__name__)

#: Reason code of a line that is no complete JSON report.
UNMAPPABLE = "unmappable_record"
#: Reason code of a report with a field the hub would refuse.
INVALID_FIELD = "invalid_field"
#: Reason code of a report whose time has no UTC offset (the hub's own code for it).
NAIVE_TIME = "naive_time"


class ExchangeConfig(ConnectorConfig):
    """Where the system's exchange directory is mounted."""

    share: Path


class InboundConfig(ExchangeConfig):
    """The exchange directory, and the key of reporters' pseudonyms."""

    pseudonym_key_file: Path
    """Key of reporters' per-case pseudonyms (64 hex digits, mode 0600), made on first start
    if missing. Keep it off the share and back it up: it finds a case's reporter again."""


class Inbound(InboundConnector[InboundConfig]):
    """Reports registered by the system → ``ReportReceived``."""

    name = "%%name%%-inbound"

    def __init__(self, config: InboundConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        self._pseudonyms = kept_key(config.pseudonym_key_file)

    def read(self, after: str | None, limit: int) -> Sequence[SourceRecord]:
        """Lines of ``outbox.jsonl`` after position ``after``: ``FILE:LINE``, or a bare ``LINE``.

        ``FILE`` is a digest of the file's first line. When the system rotates or replaces the
        file, the new one is read from its first line: the old line number would skip its
        first lines, or all of them while it is shorter. Each line is decoded on its own, so
        a line in another encoding is refused alone (:meth:`to_events`).

        Raises:
            TransientError: the share cannot be read, or ``after`` is no position of this
                connector (a mistyped ``--reread-after``).
        """
        try:
            lines = (self.config.share / "outbox.jsonl").read_bytes().splitlines()
        except OSError as exc:
            raise TransientError(f"exchange share unreachable ({type(exc).__name__})") from exc
        file = hashlib.sha256(lines[0] if lines else b"").hexdigest()[:16]
        start = self._start(after, file, len(lines))
        return [
            SourceRecord(
                position=f"{file}:{number}", payload=_payload(line), source_id=f"line {number}"
            )
            for number, line in enumerate(lines[start : start + limit], start=start + 1)
        ]

    def _start(self, after: str | None, file: str, lines: int) -> int:
        """The number of lines of ``file`` already read, by checkpoint ``after``."""
        kept_file, _, number = (after or "0").rpartition(":")
        if not (number.isascii() and number.isdecimal()):
            raise TransientError(
                "the checkpoint is no position of outbox.jsonl; restart the connector with "
                "`--reread-after LINE` (0: from the first line) or a position a dead letter names"
            )
        if (kept_file and kept_file != file) or int(number) > lines:
            log.warning(
                "%s: outbox.jsonl is not the file the checkpoint was taken in (rotated or "
                "replaced): reading it from its first line",
                self.name,
            )
            return 0
        return int(number)

    def to_events(self, record: SourceRecord) -> list[Event]:
        """One ``ReportReceived`` per report line."""
        if not record.payload["utf8"]:
            raise PermanentError(
                UNMAPPABLE,
                "not UTF-8 text; have the system write outbox.jsonl in UTF-8, and correct the "
                "report in it",
            )
        try:
            report = json.loads(record.payload["line"])
            return [Event("ReportReceived", self._report(report))]
        except KeyError as exc:
            # The key is one of this mapping's own field names, never a value of the report.
            raise _invalid(str(exc.args[0]), "is missing", UNMAPPABLE) from None
        except (ValueError, TypeError) as exc:
            raise PermanentError(
                UNMAPPABLE,
                f"not a complete report ({type(exc).__name__}); correct it in the system",
            ) from None

    def _report(self, report: dict[str, Any]) -> dict[str, Any]:
        institution = self.institution
        case_id = case_id_for(institution, _text(report, "case_number"))
        reported_at = _moment(report, "reported_at")
        return {
            "envelope": envelope(
                event_id=event_id_for(institution, _text(report, "id"), "ReportReceived"),
                case_id=case_id,
                event_type="ReportReceived",
                event_time=reported_at,
                source=institution,
                actor_ref=f"system:{institution}",
            ),
            "case_number": report["case_number"],
            "election": report["election"],
            "region_code": report["region_code"],
            "employing_agency": report["employing_agency"],
            # Left to the hub's schema check: a symbol outside the enum is dead-lettered
            # as `schema_mismatch`, naming the field.
            "violation": report["violation"],
            "discovered_on": reported_at.date(),
            "summary": report["summary"],
            "subject_nip": _nip(report, "subject_nip"),
            "subject_name": report["subject_name"],
            # Never the system's own reference of the person: one pseudonym per case.
            "reporter_ref": case_pseudonym(self._pseudonyms, case_id, _text(report, "reporter")),
            "reporter_identity": None,
        }


def _payload(line: bytes) -> dict[str, Any]:
    """A line as its record's payload, and whether it was UTF-8."""
    try:
        return {"line": line.decode(), "utf8": True}
    except UnicodeDecodeError:
        return {"line": line.decode(errors="replace"), "utf8": False}


def _invalid(field: str, why: str, code: str = INVALID_FIELD) -> PermanentError:
    """The refusal of a report's ``field`` (named; its value never quoted)."""
    return PermanentError(code, f"field {field!r} {why}; correct the report in the system")


def _text(report: dict[str, Any], field: str) -> str:
    value = report[field]
    if not isinstance(value, str) or not value.strip():
        raise _invalid(field, "is not a non-empty string")
    return value


def _nip(report: dict[str, Any], field: str) -> str:
    """The subject's NIP, or empty: a reporter may not know it."""
    value = report[field]
    if value == "":
        return ""
    # ASCII digits only: SIASN knows no NIP in other digits.
    if not isinstance(value, str) or not is_nip(value):
        raise _invalid(field, "is neither a NIP (18 digits 0-9) nor empty")
    return value


def _moment(report: dict[str, Any], field: str) -> datetime:
    try:
        value = datetime.fromisoformat(_text(report, field))
    except ValueError:
        raise _invalid(field, "is not an ISO 8601 date-time") from None
    if value.tzinfo is None:  # a wall time is no instant: which zone would it be?
        raise _invalid(
            field,
            "has no UTC offset; send it with its offset, e.g. 2024-11-01T09:30:00+07:00",
            NAIVE_TIME,
        )
    return value


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
        _write(inbox / f"{entry.event_id}.json", update)

    def refused(self, refusal: HubRefusal) -> None:
        """Write the hub's refusal of one of the system's records as ``inbox/refused-*.json``.

        One file per refused record (named by its inbound position), so a receipt delivered
        again replaces it. The reason says what to correct, never a personal value. A
        ``duplicate_event`` answer to a record read again never comes here: the hub holds that
        event already, and the runtime only logs and counts it.
        """
        inbox = self.config.share / "inbox"
        if not inbox.is_dir():
            raise TransientError("exchange share unreachable (inbox missing)")
        position = refusal.source.replace(":", "_")
        _write(inbox / f"refused-{position}.json", asdict(refusal))


def _write(target: Path, content: dict[str, Any]) -> None:
    partial = target.with_suffix(".part")
    partial.write_text(json.dumps(content, default=_iso))
    partial.replace(target)  # atomic: the system never reads half a file


def _iso(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)
