"""Inspektorat Daerah → Kawal by store-and-forward file drop (entry point ``inspektorat-filedrop``).

The office drops batches into ``incoming/`` (see :mod:`connectors.inspektorat.dropbox` for the
layout and :mod:`connectors.inspektorat.rows` for the columns). The connector reads complete
batches in name order; a record's position is ``<batch name>#<row number>``, so a restart
resumes inside a batch. Once every row of a batch is in the hub, it writes the batch's receipt
and moves the batch to ``processed/``.

What a checkpoint ``<batch>#<row>`` promises, and how reads use it:

* Rows up to ``row`` of ``batch`` are in the hub: reading resumes after them, wherever the
  batch now is. If that was the batch's last row and it is still in ``incoming/``, a crash came
  between the checkpoint and :meth:`FileDropInbound.acknowledge`; the read finishes the batch
  (receipt, move) without publishing it again.
* Every other batch in ``incoming/`` is read from its first row, even one whose name sorts
  before the checkpoint's: it is either a batch the same crash kept from being finished, or one
  the office dropped late. Publishing it again is harmless (event ids derive from the office's
  record ids, so the hub sees duplicates), and skipping a late batch would lose it.
* Batches in ``processed/`` are done; only a read from no checkpoint (a full replay) reads them,
  as long as they are kept (``retention_days``).

An entry under a batch's name that is no regular file (a symbolic link, a folder, a pipe) is
never opened: it is read as one record at row 0 that the runner dead-letters
(``not_a_regular_file``), then moved to ``refused/`` with a refusal receipt. A folder of the
share that is a link stops every read, with an error in the log, until it is a folder again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from connectors.base import (
    ConnectorConfig,
    ConnectorContext,
    Event,
    InboundConnector,
    PermanentError,
    SourceRecord,
    TransientError,
    check_zone,
)
from connectors.inspektorat.dropbox import Batch, DropDirectory, Position
from connectors.inspektorat.entries import UnsafeShareError
from connectors.inspektorat.reporters import pseudonymised
from connectors.inspektorat.rows import RowMapper
from connectors.pseudonyms import kept_key
from streams.private_files import PrivateFileError

_INSPECTORATE = re.compile(r"inspektorat\.\d{2,10}")


def check_inspectorate(value: str) -> str:
    """``value`` if it is a regional inspectorate's id.

    Raises:
        ValueError: it is not (a configuration's ``institution``).
    """
    if not _INSPECTORATE.fullmatch(value):
        raise ValueError("must be a regional inspectorate's id, e.g. 'inspektorat.3374'")
    return value


class FileDropConfig(ConnectorConfig):
    """Where the office's share is mounted, and how to read its timestamps."""

    drop_dir: Path
    """Root of the share (holding ``incoming/``); unmounted means unreachable, not empty."""
    timezone: str = "Asia/Jakarta"
    """IANA zone of timestamps the office writes without an offset (WIB by default)."""
    retention_days: int = Field(default=30, ge=0)
    """Days a batch stays in ``processed/`` or ``refused/`` once the hub took or refused it
    (personal data): the hub holds what it took, the office its own records. 30: as long as
    the hub keeps raw inbound traffic."""
    pseudonym_key_file: Path
    """The office's key of reporters' per-case pseudonyms (64 hex digits, mode 0600), made on
    first start if missing. Keep it off the share, which others may read, and back it up: the
    office recomputes a case's pseudonym with it to find the reporter."""

    @field_validator("institution")
    @classmethod
    def _is_inspectorate(cls, value: str) -> str:
        return check_inspectorate(value)

    @field_validator("timezone")
    @classmethod
    def _is_zone(cls, value: str) -> str:
        return check_zone(value)


class FileDropInbound(InboundConnector[FileDropConfig]):
    """Batches of examination results and received reports → shared events, with receipts."""

    name = "inspektorat-filedrop"

    def __init__(self, config: FileDropConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        self._drop = DropDirectory(config.drop_dir)
        self._pseudonyms = kept_key(config.pseudonym_key_file)
        violations = context.catalog.schema("kawal.ViolationCategory")["symbols"]
        self._rows = RowMapper(
            config.institution, ZoneInfo(config.timezone), frozenset(violations) - {"UNKNOWN"}
        )
        #: The unsafe folder last logged, so a lasting problem is logged once, not every poll.
        self._unsafe: str | None = None

    def read(self, after: str | None, limit: int) -> Sequence[SourceRecord]:
        """Up to ``limit`` rows of complete batches after checkpoint ``after``.

        Raises:
            TransientError: the share is unmounted or failed while being read.
        """
        resume = Position.parse(after) if after else None
        self._check_folders()
        if not self._drop.reachable():
            raise TransientError(
                f"drop directory {self._drop.incoming} is not there (share unmounted?); "
                "batches are read once it is back"
            )
        try:
            self._tidy(resume)
            return self._records(resume, limit)
        except (OSError, UnsafeShareError, PrivateFileError) as exc:
            raise TransientError(
                f"drop directory {self._drop.root} failed while being read ({type(exc).__name__})"
            ) from exc

    def to_events(self, record: SourceRecord) -> list[Event]:
        """The event one row stands for.

        Raises:
            PermanentError: the row is malformed, or its whole file is unreadable.
        """
        payload = record.payload
        if "unreadable" in payload:
            raise PermanentError(
                payload["reason_code"],
                f"{payload['unreadable']}; nothing in the batch was taken, "
                "export it again under a new name",
            )
        return self._rows.events(payload["record"])

    def acknowledge(self, records: Sequence[SourceRecord]) -> None:
        """Receipt and move every batch whose last row is now in the hub.

        A failure leaves the batch in ``incoming/``; a later read finishes it (see the module).
        """
        last_rows: dict[str, int] = {}
        for record in records:
            position = Position.parse(record.position)
            last_rows[position.batch] = max(last_rows.get(position.batch, 0), position.row)
        for name, row in last_rows.items():
            try:
                self._settle(name, row)
            except (OSError, UnsafeShareError, PrivateFileError) as exc:
                self.context.log.warning(
                    "%s: batch %s is in the hub but not receipted yet (%s); it will be",
                    self.name,
                    name,
                    exc if isinstance(exc, PrivateFileError) else type(exc).__name__,
                )

    def expire(self, now: datetime) -> None:
        """Delete batches processed or refused more than ``retention_days`` before ``now``."""
        days = self.config.retention_days
        try:
            deleted = self._drop.expire(now - timedelta(days=days))
        except (OSError, UnsafeShareError) as exc:
            self.context.log.warning(
                "%s: could not delete expired batches (%s); tried again later",
                self.name,
                type(exc).__name__,
            )
            return
        if deleted:
            self.context.log.info(
                "%s: deleted %d processed or refused batches older than %d days",
                self.name,
                deleted,
                days,
            )

    def _check_folders(self) -> None:
        """Refuse the share while a folder of it is a link; log each new problem once."""
        try:
            self._drop.check_folders()
        except UnsafeShareError as exc:
            if str(exc) != self._unsafe:
                self.context.log.error("%s: %s", self.name, exc)
                self._unsafe = str(exc)
            raise TransientError(str(exc)) from exc
        if self._unsafe is not None:
            self.context.log.info("%s: the drop directory's folders are real again", self.name)
            self._unsafe = None

    def _settle(self, name: str, row: int) -> None:
        """Finish ``name`` if ``row`` is its last and it still waits in ``incoming/``."""
        if not self._drop.is_pending(name):
            return  # finished before, or read from processed/ in a full replay
        batch = self._drop.load(name)
        if batch.regular and self._drop.is_finished(name):
            return  # a copy dropped meanwhile: the next read settles it as a re-drop
        if row >= batch.last_row:
            self._finish(name)

    def _tidy(self, resume: Position | None) -> None:
        """Settle batches that need no publishing: re-dropped, empty, or already in the hub."""
        for name in self._drop.pending():
            batch = self._drop.load(name)
            if not batch.regular:
                # Read as a record (dead-lettered), then moved aside by acknowledge; a crash
                # after its checkpoint leaves the moving to this.
                if resume is not None and name == resume.batch:
                    self._finish(name)
                continue
            if self._drop.is_finished(name):
                self._settle_duplicate(batch)
            elif batch.error is None and not batch.rows:
                self._finish(name)
            elif resume is not None and name == resume.batch and resume.row >= batch.last_row:
                # The runner stores a checkpoint only once the broker has every event up to it.
                self._finish(name)

    def _records(self, resume: Position | None, limit: int) -> list[SourceRecord]:
        finished = set(self._drop.finished() if resume is None else ())
        if resume is not None and self._drop.is_finished(resume.batch):
            finished.add(resume.batch)
        names = sorted(set(self._drop.pending()) | finished)
        self._drop.forget(set(names))
        records: list[SourceRecord] = []
        for name in names:
            start = resume.row if resume is not None and name == resume.batch else -1
            batch = self._drop.load(name, finished=name in finished)
            rows = self._source_records(batch)
            records += [r for r in rows if Position.parse(r.position).row > start]
            if len(records) >= limit:
                break
        return records[:limit]

    def _settle_duplicate(self, batch: Batch) -> None:
        """A batch dropped under a name already processed: same bytes are dropped, else refused."""
        taken = self._drop.load(batch.name, finished=True)
        if taken.sha256 == batch.sha256:
            self._drop.discard(batch.name)
            self.context.log.info("%s: batch %s dropped again; already in", self.name, batch.name)
            return
        self._refuse(
            batch,
            "a different batch with this name is already processed; "
            "export it again under a new name",
            "name already used",
        )

    def _refuse(self, batch: Batch, reason: str, summary: str) -> None:
        """Move ``batch`` to ``refused/`` with a refusal receipt saying ``reason``."""
        refusal = {
            "batch": batch.name,
            "institution": self.institution,
            "sha256": batch.sha256,
            "status": "refused",
            "reason": reason,
            "receipted_at": _now(),
        }
        self._drop.refuse(batch.name, refusal)
        self.context.log.warning("%s: batch %s refused: %s", self.name, batch.name, summary)

    def _finish(self, name: str) -> None:
        batch = self._drop.load(name)
        if not batch.regular:
            error = str(batch.error)
            reason = f"{error}; the hub reads only files: export the batch again under a new name"
            self._refuse(batch, reason, error)
            return
        receipt = self._receipt(batch)
        self._drop.finish(name, receipt)
        self.context.log.info(
            "%s: batch %s receipted (%d accepted, %d rejected)",
            self.name,
            name,
            len(receipt["accepted"]),
            len(receipt["rejected"]),
        )

    def _receipt(self, batch: Batch) -> dict[str, Any]:
        """The receipt of a batch: what became which event, and why rows were rejected.

        Mapping is deterministic, so this is exactly what the runner published or
        dead-lettered. Rejected rows are named by number and reason only: a malformed row's
        values may be personal data.
        """
        accepted: list[dict[str, Any]] = []
        rejected: list[dict[str, Any]] = []
        for record in self._source_records(batch):
            row = Position.parse(record.position).row
            try:
                events = self.to_events(record)
            except PermanentError as exc:
                rejected.append(
                    {"row": row or None, "reason_code": exc.reason_code, "reason": exc.reason}
                )
                continue
            accepted.append(
                {
                    "row": row,
                    "record_id": record.payload["record"]["record_id"],
                    "event_ids": [event.record["envelope"]["event_id"] for event in events],
                }
            )
        status = "unreadable" if batch.error else "partial" if rejected else "complete"
        return {
            "batch": batch.name,
            "institution": self.institution,
            "sha256": batch.sha256,
            "status": status,
            "record_count": batch.last_row,
            "accepted": accepted,
            "rejected": rejected,
            "receipted_at": _now(),
        }

    def _source_records(self, batch: Batch) -> list[SourceRecord]:
        """The batch's rows as records, each reporter pseudonymised as soon as it is read.

        An unreadable file is one record at row 0.
        """
        if batch.error is not None:
            payload: Mapping[str, Any] = {
                "batch": batch.name,
                "sha256": batch.sha256,
                "unreadable": batch.error,
                "reason_code": batch.reason_code,
            }
            return [SourceRecord(str(Position(batch.name, 0)), payload, batch.name)]
        institution, key = self.institution, self._pseudonyms
        return [
            SourceRecord(
                position=str(Position(batch.name, number)),
                payload={
                    "batch": batch.name,
                    "row": number,
                    "record": pseudonymised(row, institution, key),
                },
                source_id=str(Position(batch.name, number)),
            )
            for number, row in enumerate(batch.rows, start=1)
        ]


def _now() -> str:
    return datetime.now(UTC).isoformat()
