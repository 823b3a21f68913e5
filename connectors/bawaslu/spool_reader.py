"""Reading a sealed spool as an inbound connector: posts that open, and those that do not.

A post whose sealed body does not open (a wrong spool key, a damaged record) must neither stop
the connector nor vanish: it is logged with where it is, refused (dead-lettered) with its
reason code, and never marked forwarded, so the spool keeps it sealed whatever its retention
until the operator recovers it. The Bawaslu webhook and the public reporting portal share this.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from connectors.base import PermanentError, SourceRecord, TransientError
from connectors.bawaslu.spool import Spool, SpooledPost, SpoolUnavailableError, UnreadablePost


class SealedSpoolReader:
    """Reads ``spool`` for the connector ``name``, remembering the last read's unreadable posts."""

    def __init__(self, spool: Spool, name: str, log: logging.Logger) -> None:
        """Reads ``spool``; logs as connector ``name``."""
        self.spool = spool
        self.name = name
        self.log = log
        #: Posts of the last read that do not open, by position: refused by :meth:`check`.
        self._unreadable: dict[str, UnreadablePost] = {}
        #: A checkpoint found past the spool's last post, read from the start instead: None
        #: until the first read checks, 0 when the checkpoint is the spool's.
        self._foreign: int | None = None
        #: The highest intake id read since, so that reading from the start ends.
        self._read_up_to = 0

    def read(self, after: str | None, limit: int) -> list[SourceRecord]:
        """Spooled posts after intake id ``after``, each as a source record.

        A checkpoint past the spool's last post was not kept for this spool (a new spool
        under a connector name that ran before, or a spool restored from a backup): every
        post it received since would lie at or below it and never be read. So the spool is
        then read from its start until the next checkpoint is stored; the hub recognises the
        events it already has.

        Raises:
            TransientError: the spool cannot be read now.
        """
        start = int(after or 0)
        try:
            if self._foreign is None:
                self._foreign = self._checked(start)
            if self._foreign and start != self._foreign:
                self._foreign = 0  # the runtime stored a checkpoint of this spool's
            if self._foreign and self._read_up_to < self._foreign:
                start = 0
            posts = self.spool.after(start, limit)
        except SpoolUnavailableError as exc:
            raise TransientError(str(exc)) from exc
        if posts:
            self._read_up_to = max(self._read_up_to, posts[-1].intake_id)
        self._unreadable = {}
        return [self._record(post) for post in posts]

    def _checked(self, start: int) -> int:
        """``start`` if it is past the spool's last post (logged), else 0."""
        last = self.spool.last_intake_id()
        if start <= last:
            return 0
        self.log.warning(
            "%s: the checkpoint (intake id %d) is past the last post of the spool %s (%d): "
            "the spool is new or was restored, so it is read from its start; the hub "
            "recognises the events it already has",
            self.name,
            start,
            self.spool.path,
            last,
        )
        return start

    def check(self, record: SourceRecord) -> None:
        """Refuse a record whose post did not open.

        Raises:
            PermanentError: the post's sealed body does not open (its reason code).
        """
        unreadable = self._unreadable.get(record.position)
        if unreadable is not None:
            raise PermanentError(
                unreadable.problem.code,
                f"spooled post at intake id {unreadable.intake_id} does not open: "
                f"{unreadable.problem.detail}; it stays sealed in the spool",
            )

    def mark_forwarded(self, records: Sequence[SourceRecord], now: datetime) -> None:
        """Mark the posts that opened forwarded: from now their retention runs."""
        forwarded = [int(r.position) for r in records if r.position not in self._unreadable]
        try:
            self.spool.mark_forwarded(forwarded, now)
        except SpoolUnavailableError as exc:
            # Only erasure waits: the checkpoint is stored, the next batch marks these too.
            self.log.warning("%s: could not mark posts forwarded (%s)", self.name, exc)

    def expire(self, now: datetime, days: int) -> None:
        """Erase the bodies of posts forwarded more than ``days`` before ``now``."""
        try:
            erased = self.spool.erase_forwarded(now - timedelta(days=days))
        except SpoolUnavailableError as exc:
            self.log.warning(
                "%s: could not erase expired posts (%s); tried again later", self.name, exc
            )
            return
        if erased:
            self.log.info(
                "%s: erased the bodies of %d posts forwarded more than %d days ago",
                self.name,
                erased,
                days,
            )

    def _record(self, post: SpooledPost | UnreadablePost) -> SourceRecord:
        position = str(post.intake_id)
        if isinstance(post, SpooledPost):
            return SourceRecord(position=position, payload=post.body, source_id=post.post_id)
        self._unreadable[position] = post
        self.log.error(
            "%s: spooled post at intake id %d (post %s) does not open (%s): dead-lettered, "
            "kept sealed in the spool",
            self.name,
            post.intake_id,
            post.post_id,
            post.problem.code,
        )
        # Only where it is: the body cannot be read, and must not leave the spool anyway.
        payload = {"intake_id": post.intake_id, "post_id": post.post_id}
        return SourceRecord(position=position, payload=payload, source_id=post.post_id)
