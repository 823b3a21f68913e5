"""What is sealed to the hub: events' disclosures, and the payloads of dead letters.

A sender seals an event's disclosures to the hub's encryption key valid at the event's time
(:mod:`streams.domain.signed_events`). A refused record may hold personal data in clear (a
sender's mistake, a system record a connector could not map), so ``kawal.dlq`` keeps its bytes
sealed to the hub's current key: only the hub's operator opens them, with ``kawal dlq``, for
diagnosis and replay.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from schemas.errors import KawalError
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keys import KeyRefusal, KeyRegistry
from streams.domain.sealing import SealingKey, seal_payload

log = logging.getLogger(__name__)


class HubKeyMissingError(KawalError):
    """No encryption key of the hub to seal to."""


def hub_sealing_key(keys: KeyRegistry, moment: datetime) -> SealingKey:
    """The hub's encryption key valid at ``moment``.

    Raises:
        HubKeyMissingError: the registry lists no hub encryption key valid then.
    """
    found = keys.encryption_key(HUB_INSTITUTION, moment)
    if isinstance(found, KeyRefusal):
        raise HubKeyMissingError(found.detail)
    return SealingKey(HUB_INSTITUTION, found.id, found.public_key)


def dead_letter_payload(keys: KeyRegistry, payload: bytes, coordinates: str) -> tuple[bytes, str]:
    """``payload`` sealed to the hub's current key, and that key's id; empty stays empty.

    ``coordinates`` (``topic:partition:offset``) are bound into the seal. A record is never
    kept in clear: with no encryption key of the hub registered, the dead letter refers to the
    record by its coordinates only, and the error says so.
    """
    if not payload:
        return b"", ""
    try:
        to = hub_sealing_key(keys, datetime.now(UTC))
    except HubKeyMissingError as exc:
        log.error("dead letter of %s kept by its coordinates only: %s", coordinates, exc)
        return b"", ""
    return seal_payload(payload, to, coordinates), to.key_id
