"""``kawal demo``: the demo cases published to a running hub, wave by wave.

Institutions act on what they see in their feeds, so each wave goes out only once the hub has
recorded the one before, read back from the audit store (KAWAL_AUDIT_DB_URL): the trail views
need a credential on a hub whose cases are not public.
"""

from __future__ import annotations

import time
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
from streams.local.keyring import keyring_of
from streams.settings import Settings

#: Seconds the hub has to record one wave of demo events.
DEMO_WAVE_TIMEOUT_SECONDS = 60.0


def publish_demo(
    settings: Settings,
    broker_url: str,
    credentials: BrokerCredentials = PLAINTEXT,
    waves: list[list[tuple[str, dict[str, Any]]]] | None = None,
) -> list[str]:
    """Publish demo cases wave by wave, each once the hub recorded the last; return their ids.

    ``waves`` are the demo's story cases (:func:`demo_waves`) unless given. Each event is
    signed by its institution with the keys of ``KAWAL_HOME/keys``.
    """
    institutions = load_institutions(settings.institutions_file)
    waves = demo_waves() if waves is None else waves
    check_demo_registry(waves, institutions)
    bootstrap, keyring = parse_broker_url(broker_url).bootstrap, keyring_of(settings)
    codec = AvroCodec(default_catalog())
    publisher = EventPublisher(bootstrap, codec, keyring, credentials, institutions)
    recorded: dict[str, int] = {}
    try:
        with AuditStore(settings.audit_url) as store:
            for wave in waves:
                for event_type, record in wave:
                    publisher.publish(event_type, record)
                    case_id = record["envelope"]["case_id"]
                    recorded[case_id] = recorded.get(case_id, 0) + 1
                publisher.flush()
                _wait_for_trails(store, recorded)
    finally:
        publisher.close()
    return list(recorded)


def _wait_for_trails(store: AuditStore, expected: dict[str, int]) -> None:
    deadline = time.monotonic() + DEMO_WAVE_TIMEOUT_SECONDS
    pending = dict(expected)
    while pending and time.monotonic() < deadline:
        pending = {
            case_id: count for case_id, count in pending.items() if _entries(store, case_id) < count
        }
        time.sleep(0.2)
    if pending:
        raise KawalError(
            f"the hub did not record {len(pending)} demo case(s) within "
            f"{DEMO_WAVE_TIMEOUT_SECONDS:.0f} s; see the worker log"
        )


def _entries(store: AuditStore, case_id: str) -> int:
    """How many entries of the case the store holds: its head's sequence number."""
    head = store.case_head(case_id)
    return 0 if head is None else head[0]
