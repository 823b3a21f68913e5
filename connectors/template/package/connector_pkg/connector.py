"""%%title%% ⇄ Kawal through a shared directory.

``Inbound`` reads the system's ``outbox.jsonl`` (the checkpoint is the file, by a digest of
its first line, and a line number in it) and maps each line with ``mapping.py`` to a
``%%event_type%%``; ``Outbound`` writes each feed entry as ``inbox/<event_id>.json`` (writing
the same event again replaces the same file: idempotent).

Whatever is not sent comes back to the system in ``inbox/``, with what to correct: a line the
connector or the runtime refused before sending it as ``inbox/rejected-<position>.json``
(``Inbound.rejected``), a record the hub refused as ``inbox/refused-<inbound position>.json``
(``Outbound.refused``). A line that cannot be mapped is refused on its own with a
``PermanentError``: the hub dead-letters it, naming its line, and goes on with the next.
Reasons name fields, never their values, which may be personal data.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict

from %%package%%.exchange import (
    ExchangeConfig,
    file_name_of,
    inbox,
    line_payload,
    outbox_lines,
    write_json,
)
from %%package%%.fields import UNMAPPABLE, invalid
from %%package%%.mapping import InboundConfig, Mapping
from connectors.base import (
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

log = logging.getLogger(__name__)

#: ``refused_by`` of a refusal the connector's runtime made before sending the record.
CONNECTOR = "connector"


class Inbound(InboundConnector[InboundConfig]):
    """Lines of ``outbox.jsonl`` → ``%%event_type%%``."""

    name = "%%name%%-inbound"

    def __init__(self, config: InboundConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        self._mapping = Mapping(config)

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
        lines = outbox_lines(self.config.share)
        file = hashlib.sha256(lines[0] if lines else b"").hexdigest()[:16]
        start = self._start(after, file, len(lines))
        return [
            SourceRecord(
                position=f"{file}:{number}", payload=line_payload(line), source_id=f"line {number}"
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
        """One ``%%event_type%%`` per line."""
        if not record.payload["utf8"]:
            raise PermanentError(
                UNMAPPABLE,
                "not UTF-8 text; have the system write outbox.jsonl in UTF-8, and correct the "
                "record in it",
            )
        try:
            line = json.loads(record.payload["line"])
            return [self._mapping.event(self.institution, line)]
        except KeyError as exc:
            # The key is one of this mapping's own field names, never a value of the record.
            raise invalid(str(exc.args[0]), "is missing", UNMAPPABLE) from None
        except (ValueError, TypeError) as exc:
            raise PermanentError(
                UNMAPPABLE,
                f"not a complete record ({type(exc).__name__}); correct it in the system",
            ) from None

    def rejected(self, record: SourceRecord, error: PermanentError) -> None:
        """Tell the system that a line was not sent: ``inbox/rejected-<position>.json``.

        The runtime calls this once the line's dead letter is in ``kawal.dlq``, which only the
        hub's operators read, whether this connector refused the line (a time without offset,
        a bad NIP...) or the runtime did (``schema_mismatch``, ``unauthorized_sender``...).
        One file per line (its position), so a line refused again replaces it. The reason
        names fields, never their values.

        Raises:
            TransientError: the share is not mounted; the runtime retries, then logs that
                the system was not told (the dead letter stands).
        """
        refusal = {
            "record": record.source_id,
            "position": record.position,
            "reason_code": error.reason_code,
            "reason": error.reason,
            "refused_by": CONNECTOR,
        }
        folder = inbox(self.config.share)
        write_json(folder / f"rejected-{file_name_of(record.position)}.json", refusal)


class Outbound(OutboundConnector[ExchangeConfig]):
    """Feed entries → ``inbox/<event_id>.json`` status updates."""

    name = "%%name%%-outbound"

    def deliver(self, entry: FeedEntry) -> None:
        """Write the status update of one entry (idempotent: one file per event id)."""
        update = {
            "case_id": entry.case_id,
            "seq": entry.entry["seq"],
            "event_type": entry.event_type,
            "hash": entry.entry["hash"],
            "event_time": entry.event["envelope"]["event_time"],
        }
        write_json(inbox(self.config.share) / f"{entry.event_id}.json", update)

    def refused(self, refusal: HubRefusal) -> None:
        """Write the hub's refusal of one of the system's records as ``inbox/refused-*.json``.

        One file per refused record (named by its inbound position), so a receipt delivered
        again replaces it. The reason says what to correct, never a personal value. A
        ``duplicate_event`` answer to a record read again never comes here: the hub holds that
        event already, and the runtime only logs and counts it.
        """
        folder = inbox(self.config.share)
        write_json(folder / f"refused-{file_name_of(refusal.source)}.json", asdict(refusal))
