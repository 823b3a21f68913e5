"""Whether the hub may sign: waits for its key, checks at rest, answers ``/readyz``.

Each signing asks :class:`streams.domain.hub_signer.HubSigner` for the key valid at that moment.
While none is (the key revoked or expired and no successor held), the pipeline's batch waits
(:func:`hub_key_for_batch`): its records are neither refused nor consumed, and are taken
as soon as a valid key is registered and its private half is in the key folder. A check every
:data:`CHECK_SECONDS` keeps ``kawal_hub_signing_key_valid`` and ``/readyz`` true at rest too,
and reads a changed registry before the next batch needs it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faust

from monitoring.metrics import HubMetrics
from streams.domain.hub_signer import (
    AT_START,
    RUNBOOK,
    WHILE_RUNNING,
    HubKeyUnavailableError,
    HubSigner,
)
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keys import KeyRefusal, KeyRegistry
from streams.domain.signing import SigningKey

log = logging.getLogger(__name__)

#: Seconds between checks of the hub's key at rest: a stat of the registry's file, and a
#: read of it only when it changed.
CHECK_SECONDS = 2.0
#: First and longest wait of a batch for a valid hub key, in seconds.
RETRY_SECONDS = 0.5
RETRY_MAX_SECONDS = 5.0
#: What ``/readyz`` answers while no key may sign (the reason in full is in the log).
UNREADY: dict[str, Any] = {
    "status": "degraded",
    "hub_signing_key": "invalid",
    "detail": "the hub has no valid signing key: it signs nothing and its events wait; see "
    f"the log and {RUNBOOK}",
}


async def hub_key_for_batch(signer: HubSigner, since: datetime) -> SigningKey:
    """The key a batch whose first record was recorded at ``since`` is signed with.

    While none is valid, the batch waits (the signer logs why).
    """
    delay = RETRY_SECONDS
    while True:
        try:
            key = signer.key_at(datetime.now(UTC), since)
        except HubKeyUnavailableError:
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)
            continue
        _report_early(signer, key, since)
        return key


def _report_early(signer: HubSigner, key: SigningKey, since: datetime) -> None:
    """Log, once per key, records older than the key: their entries will not verify.

    Entries are checked at their records' time, so a key made valid from later than the
    records that waited for it vouches for none of them (``hub_not_yet_valid``).
    """
    found = signer.registry.key_for(HUB_INSTITUTION, key.key_id, since)
    if isinstance(found, KeyRefusal) and key.key_id not in signer.early:
        signer.early.add(key.key_id)
        log.error(
            "the hub signs with key %s entries of records from %s, when it was not valid: "
            "they will not verify (hub_%s); give the hub a key valid from then (%s)",
            key.key_id,
            since.isoformat(),
            found.problem.value,
            RUNBOOK,
        )


def readiness(signer: HubSigner | None) -> tuple[int, dict[str, Any]] | None:
    """``/readyz``'s answer while no hub key may sign, or None when one may (or none signs)."""
    if signer is None or signer.problem is None:
        return None
    return 503, UNREADY


def hub_signer(
    app: faust.App,
    folder: Path,
    keys: KeyRegistry,
    metrics: HubMetrics,
    interval: float = CHECK_SECONDS,
) -> HubSigner:
    """The signer of ``app`` over the hub's keys in ``folder``, checked every ``interval`` s.

    ``keys`` is read again in place whenever its file changes; ``kawal_hub_signing_key_valid``
    follows each check, and ``kawal_hub_key_file_damaged`` the files of the key folder set
    aside (a damaged file beside a valid key is reported, never a stop).

    Raises:
        streams.domain.signing.SigningKeyError: no key of the hub is held, registered and
            valid now: the process does not start (it would sign nothing).
    """
    signer = HubSigner(
        folder,
        keys,
        metrics.hub_key_checked,
        then=AT_START,
        set_aside=lambda files: metrics.hub_key_files_set_aside(
            (file.path.name, file.damage.value) for file in files
        ),
    )
    signer.key_at(datetime.now(UTC))
    # From now on a key mended is taken up by the check below, with no restart.
    signer.then = WHILE_RUNNING

    async def check() -> None:
        signer.available(datetime.now(UTC))

    app.timer(interval, name="kawal.hub-key-check")(check)
    return signer
