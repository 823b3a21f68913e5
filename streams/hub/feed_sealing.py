"""Each recipient's share of an entry's disclosures, readable by that recipient alone.

The router decides which disclosures an institution may see (:mod:`streams.hub.router`); this
encrypts them under the institution's current feed key, sealed to its encryption key valid now
(:mod:`streams.domain.feed_keys`), so a feed carries commitments and ciphertext only, and only
the recipient's connector opens it. A feed key serves one recipient and one key of it for at
most :data:`EPOCH_SECONDS` and :data:`EPOCH_RECORDS` records; a rotated encryption key gets a
new feed key at once. Each worker process draws its own feed keys and keeps them in memory only.
A
recipient with no registered encryption key gets the entry without its disclosures: the error
is logged and counted (``kawal_unsealed_feed_records_total``) for ops to register the key; the
institution can read the values once it has one (the trail, ``kawal case trail``).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from monitoring.metrics import HubMetrics
from schemas.catalog import SchemaCatalog
from streams.domain.feed_keys import FeedKey, encrypt_for_feed, new_feed_key
from streams.domain.keys import KeyRefusal, KeyRegistry
from streams.domain.sealing import SealingKey

log = logging.getLogger(__name__)

#: Longest use of one feed key, in seconds: what a leaked feed key could expose is bounded
#: to the records of one recipient in one epoch.
EPOCH_SECONDS = 3600.0
#: Most records under one feed key: random 96-bit nonces stay far from colliding (2^-57).
EPOCH_RECORDS = 1 << 20


class FeedSealer:
    """Seals feed disclosures to their recipients' current encryption keys."""

    def __init__(
        self,
        catalog: SchemaCatalog,
        keys: KeyRegistry,
        metrics: HubMetrics,
        epoch: tuple[float, int] = (EPOCH_SECONDS, EPOCH_RECORDS),
    ) -> None:
        """Seal with ``catalog``'s Disclosure schema to keys of ``keys``; count failures.

        ``epoch`` is how long, in seconds, and for how many records a feed key serves.
        """
        self._catalog = catalog
        self._keys = keys
        self._metrics = metrics
        self._epoch_seconds, self._epoch_records = epoch
        # Each recipient's current feed key, and when (monotonic seconds) it was drawn.
        self._feed_keys: dict[str, tuple[FeedKey, float]] = {}

    def sealed_view(
        self, entry: dict[str, Any], institution: str, shown: list[dict[str, str]]
    ) -> dict[str, Any]:
        """``entry`` as ``institution`` receives it: ``shown`` sealed to it, nothing in clear."""
        bare = entry | {
            "disclosures": [],
            "sealed_disclosures": [],
            "feed_disclosures": [],
            "vaulted_disclosures": b"",
        }
        if not shown:
            return bare
        found = self._keys.encryption_key(institution, datetime.now(UTC))
        if isinstance(found, KeyRefusal):
            # The case id is an opaque UUID; the detail names the key problem, never a value.
            log.error(
                "feed entry %s/%s to %s sent without its disclosures: %s",
                entry["case_id"],
                entry["seq"],
                institution,
                found.detail,
            )
            self._metrics.unsealed_feed_records.inc()
            return bare
        key = self._feed_key(SealingKey(institution, found.id, found.public_key))
        return bare | {
            "feed_disclosures": [encrypt_for_feed(self._catalog, shown, key, entry["event"])]
        }

    def _feed_key(self, to: SealingKey) -> FeedKey:
        """``to``'s current feed key; a new one when its key changed or its epoch is over."""
        now = time.monotonic()
        current = self._feed_keys.get(to.recipient)
        if current is not None:
            key, drawn = current
            fresh = now - drawn < self._epoch_seconds and key.used < self._epoch_records
            if fresh and key.to.key_id == to.key_id:
                return key
        key = new_feed_key(to)
        self._feed_keys[to.recipient] = (key, now)
        return key
