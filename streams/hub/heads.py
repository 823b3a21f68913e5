"""Publishing signed tree heads on ``kawal.heads``, from the audit sink.

After a stored batch grew the log, and on a timer, the sink asks for a head: at most one per
``KAWAL_TREE_HEAD_SECONDS``, so a burst costs a head per interval, not one per batch, and the
timer publishes the last growth of a burst that no later batch follows. A head is stored
(:class:`streams.audit.heads.HeadIssuer`) before it is sent; one the broker did not take, or
the latest after a restart, is sent again before any newer head, so every keeper receives each
head a later one proves consistency from. A head received twice is the same head.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aiokafka.errors import KafkaError
from faust.exceptions import ProducerSendError

from monitoring.metrics import HubMetrics
from schemas.codec import AvroCodec
from streams.audit.heads import HeadIssuer
from streams.audit.store import StoreError
from streams.audit.tree_log import TreeError
from streams.domain.hub_signer import HubKeyUnavailableError
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.tree_heads import TREE_HEAD_RECORD, SignedTreeHead
from streams.hub.outbox import Outbox
from streams.topics import HEADS

log = logging.getLogger(__name__)

#: Every head has this key: one sequence, on the topic's one partition.
HEAD_KEY = HUB_INSTITUTION.encode()


def utc_now() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)


class HeadPublisher:
    """Issues and sends tree heads; what the sink needs for ``kawal.heads`` and nothing more."""

    def __init__(
        self,
        issuer: HeadIssuer,
        codec: AvroCodec,
        new_outbox: Callable[[], Outbox],
        interval: timedelta,
        clock: Callable[[], datetime] = utc_now,
        metrics: HubMetrics | None = None,
    ) -> None:
        """Publish ``issuer``'s heads through outboxes from ``new_outbox``, one per ``interval``.

        ``clock`` gives the heads' ``issued_at`` and measures the interval. ``metrics``, the
        sink's, learn of each head the store refused or took: storing a head is a write, so a
        store that takes no write (a full disk) shows down while no batch comes either.
        """
        self.metrics = metrics
        self.issuer = issuer
        self.codec = codec
        self.new_outbox = new_outbox
        self.interval = interval
        self.clock = clock
        self._last_issued: datetime | None = None
        #: A head stored but not known to be on the broker; None once sent.
        self._unsent: SignedTreeHead | None = None
        self._started = False
        # The timer and the batches both call publish_due on one event loop.
        self._lock = asyncio.Lock()

    async def publish_due(self) -> SignedTreeHead | None:
        """Send any head not yet sent, then issue and send a new one if one is due.

        Returns the new head, or None (not due, the log has not grown, or it failed). Failures
        are logged and tried again at the next call; the entries are stored all the same.
        """
        async with self._lock:
            try:
                await self._send_unsent()
                now = self.clock()
                if self._last_issued is not None and now - self._last_issued < self.interval:
                    return None
                head = await self._issue(now)
                if head is None:
                    return None
                self._last_issued = now
                self._unsent = head
                await self._send_unsent()
                return head
            except TreeError as exc:
                log.error("no tree head signed: %s", exc)
            except HubKeyUnavailableError:
                # The signer logged why; the next head, once a key is valid, covers every entry.
                log.warning("no tree head signed: the hub has no valid signing key")
            except StoreError as exc:
                if self.metrics is not None:
                    self.metrics.store_failed()
                log.warning("no tree head issued, the audit store failed (%s); retrying", exc)
            except (KafkaError, ProducerSendError) as exc:
                log.warning("tree head not sent (%s); sending it again next time", exc)
            return None

    async def _issue(self, now: datetime) -> SignedTreeHead | None:
        started = time.perf_counter()
        head = await asyncio.to_thread(self.issuer.issue, now)
        if head is not None and self.metrics is not None:
            self.metrics.store_written(time.perf_counter() - started)
        return head

    async def _send_unsent(self) -> None:
        if not self._started:
            # After a restart the latest head may never have reached the broker.
            self._unsent = await asyncio.to_thread(self.issuer.latest)
            self._started = True
        if self._unsent is None:
            return
        outbox = self.new_outbox()
        value = self.codec.encode(TREE_HEAD_RECORD, self._unsent.to_record())
        outbox.add(HEADS, HEAD_KEY, value, partition=0)
        await outbox.flush()
        log.info("published tree head of size %d", self._unsent.tree_size)
        self._unsent = None
