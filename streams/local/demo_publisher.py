"""``kawal demo``: the demo cases published to a running hub, wave by wave.

Institutions act on what they see in their feeds, so each wave goes out only once the hub has
recorded the one before, read back from the audit store (KAWAL_AUDIT_DB_URL): the trail views
need a credential on a hub whose cases are not public. What the hub holds already, or an earlier
run sent, is not sent again: a restarted demo leaves no ``duplicate_event`` letters.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from schemas.errors import KawalError
from streams.audit.store import AuditStore
from streams.broker.credentials import PLAINTEXT, BrokerCredentials
from streams.broker.endpoint import parse_broker_url
from streams.broker.publisher import EventPublisher
from streams.domain.institutions import load_institutions
from streams.local.demo import check_demo_registry, demo_waves
from streams.local.demo_progress import record_sent, sent_event_ids
from streams.local.keyring import keyring_of
from streams.settings import Settings

#: Seconds the hub has to record one wave of demo events.
DEMO_WAVE_TIMEOUT_SECONDS = 60.0
#: Seconds a restarted demo leaves the hub to record, from its backlog, what an earlier run sent.
DEMO_BACKLOG_SECONDS = 20.0

Wave = list[tuple[str, dict[str, Any]]]


def publish_demo(
    settings: Settings,
    broker_url: str,
    credentials: BrokerCredentials = PLAINTEXT,
    waves: list[Wave] | None = None,
) -> list[str]:
    """Publish demo cases wave by wave, each once the hub recorded the last; return their ids.

    ``waves`` are the demo's story cases (:func:`demo_waves`) unless given. Each event is
    signed by its institution with the keys of ``KAWAL_HOME/keys``. An event the hub holds
    already, or an earlier run sent, is not sent again (:func:`_publish_wave`), so a restart
    of ``kawal up --demo`` sends only what its first run had not.
    """
    institutions = load_institutions(settings.institutions_file)
    waves = demo_waves() if waves is None else waves
    check_demo_registry(waves, institutions)
    bootstrap, keyring = parse_broker_url(broker_url).bootstrap, keyring_of(settings)
    codec = AvroCodec(default_catalog())
    publisher = EventPublisher(bootstrap, codec, keyring, credentials, institutions)
    cases: dict[str, None] = {}
    try:
        with AuditStore(settings.audit_url) as store:
            for wave in waves:
                _publish_wave(publisher, store, settings.home, wave)
                cases |= dict.fromkeys(record["envelope"]["case_id"] for _, record in wave)
    finally:
        publisher.close()
    return list(cases)


def _publish_wave(publisher: EventPublisher, store: AuditStore, home: Path, wave: Wave) -> None:
    """Send what of ``wave`` the hub lacks, then wait until it recorded the whole wave.

    An event an earlier run sent (:mod:`streams.local.demo_progress`) but the store lacks is
    left to the hub's backlog for :data:`DEMO_BACKLOG_SECONDS`; one still missing then was
    lost with a broker that kept nothing (``--ephemeral``) and is sent again.

    Raises:
        KawalError: the hub did not record the wave within :data:`DEMO_WAVE_TIMEOUT_SECONDS`.
    """
    events = {record["envelope"]["event_id"]: record["envelope"]["case_id"] for _, record in wave}
    missing = set(events) - store.held_event_ids(events)
    earlier = missing & sent_event_ids(home)
    if earlier:
        missing = (missing - earlier) | _unrecorded(store, earlier, DEMO_BACKLOG_SECONDS)
    for event_type, record in wave:
        if record["envelope"]["event_id"] in missing:
            publisher.publish(event_type, record)
    publisher.flush()
    record_sent(home, (event_id for event_id in events if event_id in missing))
    pending = _unrecorded(store, set(events), DEMO_WAVE_TIMEOUT_SECONDS)
    if pending:
        raise KawalError(
            f"the hub did not record {len({events[event_id] for event_id in pending})} demo "
            f"case(s) within {DEMO_WAVE_TIMEOUT_SECONDS:.0f} s; see the worker log"
        )


def _unrecorded(store: AuditStore, event_ids: set[str], timeout: float) -> set[str]:
    """Those of ``event_ids`` the store still lacks after waiting up to ``timeout`` s for them."""
    deadline = time.monotonic() + timeout
    pending = event_ids - store.held_event_ids(event_ids)
    while pending and time.monotonic() < deadline:
        time.sleep(0.2)
        pending -= store.held_event_ids(pending)
    return pending
