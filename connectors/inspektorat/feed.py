"""Kawal → Inspektorat Daerah by file drop (entry point ``inspektorat-feed``): the hub's news.

The office reads what the hub tells it from ``feed/`` on the share it drops batches on
(:mod:`connectors.inspektorat.dropbox`), as it reads its batches' receipts:

* ``<case_id>.<seq>.<event_id>.json`` (seq zero-padded to 8 digits, so name order is each
  case's trail order): one entry of the office's feed, the fields the hub disclosed to it
  (:func:`connectors.feed_documents.feed_document`);
* ``refused.<event_id>.json``: an event of the office's that the HUB refused after the
  connector sent it (a row its batch receipt lists as accepted: the receipt says what the
  connector took, this what the hub did not), with the batch, row and record id it came from
  when a receipt names the event, its reason code and what to fix.

Each file is written once, atomically, and never rewritten: an entry or refusal delivered
again (a restart, ``--redeliver-from``) finds its file there. A share that is unmounted, or
one of whose folders is a link, holds the feed at the entry until it is back
(:class:`~connectors.base.TransientError`). Files keep the mode the office's user needs to read
them; the feed holds the personal data the hub discloses to the office, as its own batches do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import field_validator

from connectors.base import (
    ConnectorConfig,
    ConnectorContext,
    FeedEntry,
    HubRefusal,
    OutboundConnector,
    TransientError,
)
from connectors.feed_documents import feed_document, json_value
from connectors.inspektorat.connector import check_inspectorate
from connectors.inspektorat.dropbox import DropDirectory
from connectors.inspektorat.entries import UnsafeShareError

T = TypeVar("T")

#: Digits of the sequence number in a feed file's name.
SEQ_DIGITS = 8


class FeedDropConfig(ConnectorConfig):
    """Where the office's share is mounted."""

    drop_dir: Path
    """Root of the share (holding ``incoming/``); unmounted means unreachable, not empty."""

    @field_validator("institution")
    @classmethod
    def _is_inspectorate(cls, value: str) -> str:
        return check_inspectorate(value)


class FeedDrop(OutboundConnector[FeedDropConfig]):
    """The office's feed and the hub's refusals of its events → files in ``feed/``."""

    name = "inspektorat-feed"

    def __init__(self, config: FeedDropConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        self._drop = DropDirectory(config.drop_dir)

    def deliver(self, entry: FeedEntry) -> None:
        """Write the entry's file, unless it is there already.

        Raises:
            TransientError: the share is unmounted, failed, or has a folder that is a link.
        """
        seq = int(entry.entry["seq"])
        name = f"{entry.case_id}.{seq:0{SEQ_DIGITS}d}.{entry.event_id}.json"
        self._write(name, _jsonable(feed_document(entry, self.context.catalog)))

    def refused(self, refusal: HubRefusal) -> None:
        """Write the refusal's file, naming the batch row the event came from if known.

        Raises:
            TransientError: as :meth:`deliver`.
        """
        named = refusal.event_id or refusal.source.replace(":", "_")
        document = {
            "event_id": refusal.event_id,
            "case_id": refusal.case_id,
            "event_type": refusal.event_type,
            "reason_code": refusal.reason_code,
            "reason": refusal.reason,
            "refused_at": refusal.issued_at.isoformat(),
            "source": refusal.source,
            **self._row_of(refusal.event_id),
        }
        self._write(f"refused.{named}.json", document)

    def _row_of(self, event_id: str | None) -> dict[str, Any]:
        """The batch, row and record id a receipt on the share names ``event_id`` by."""
        found: dict[str, Any] = {"batch": None, "row": None, "record_id": None}
        if event_id is None:
            return found
        for _, receipt in self._guarded(self._drop.receipts_holding):
            for accepted in receipt.get("accepted") or []:
                if isinstance(accepted, Mapping) and event_id in (accepted.get("event_ids") or []):
                    return {
                        "batch": receipt.get("batch"),
                        "row": accepted.get("row"),
                        "record_id": accepted.get("record_id"),
                    }
        return found

    def _write(self, name: str, document: Mapping[str, Any]) -> None:
        if self._guarded(lambda: self._drop.deliver(name, document)):
            self.context.log.info("%s: wrote feed/%s", self.name, name)

    def _guarded(self, call: Callable[[], T]) -> T:
        """``call()``, a share that failed or is unsafe being a transient failure."""
        try:
            return call()
        except (OSError, UnsafeShareError) as exc:
            raise TransientError(
                f"drop directory {self._drop.root} cannot be written ({type(exc).__name__}); "
                "the feed is held until it is back"
            ) from exc


def _jsonable(document: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` with every value JSON can hold (moments in ISO 8601, bytes in hex)."""
    found: dict[str, Any] = json.loads(json.dumps(document, default=json_value))
    return found
