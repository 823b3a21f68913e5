"""Each recipient's share of an entry's disclosures, sealed to that recipient alone.

The router decides which disclosures an institution may see (:mod:`streams.hub.router`); this
seals them to the institution's encryption key valid now (:mod:`streams.domain.sealing`), so a
feed carries commitments and ciphertext only, and only the recipient's connector opens it. A
recipient with no registered encryption key gets the entry without its disclosures: the error
is logged and counted (``kawal_unsealed_feed_records_total``) for ops to register the key; the
institution can read the values once it has one (the trail, ``kawal case trail``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from monitoring.metrics import HubMetrics
from schemas.catalog import SchemaCatalog
from streams.domain.keys import KeyRefusal, KeyRegistry
from streams.domain.sealing import SealingKey, seal

log = logging.getLogger(__name__)


class FeedSealer:
    """Seals feed disclosures to their recipients' current encryption keys."""

    def __init__(self, catalog: SchemaCatalog, keys: KeyRegistry, metrics: HubMetrics) -> None:
        """Seal with ``catalog``'s Disclosure schema to keys of ``keys``; count failures."""
        self._catalog = catalog
        self._keys = keys
        self._metrics = metrics

    def sealed_view(
        self, entry: dict[str, Any], institution: str, shown: list[dict[str, str]]
    ) -> dict[str, Any]:
        """``entry`` as ``institution`` receives it: ``shown`` sealed to it, nothing in clear."""
        bare = entry | {"disclosures": [], "sealed_disclosures": [], "vaulted_disclosures": b""}
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
        to = SealingKey(institution, found.id, found.public_key)
        return bare | {"sealed_disclosures": [seal(self._catalog, shown, to, entry["event"])]}
