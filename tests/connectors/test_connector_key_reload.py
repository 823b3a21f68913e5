"""A running connector reads its key registry again when the file changes, as the hub does.

An operator revokes the hub's leaked key in the registry file every process reads: the hub
stops signing with it at its next batch, and a connector started before the revocation must
stop believing it too, from its next pass, without a restart. Before, a connector knew only
the registry it read at start: it went on delivering entries the revoked key vouched for.
A registry file that no longer reads is kept out, and shown on the connector's metrics.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaProducer

from connectors.base import ConnectorConfig, ConnectorContext
from connectors.host import run_connector
from connectors.signed_fixtures import signed_entry
from monitoring.connectors import ConnectorMetrics
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.domain.chain import GENESIS_HASH
from streams.domain.institutions import HUB_INSTITUTION
from streams.local.embedded import EmbeddedBroker
from streams.local.key_revocation import revoke_key
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.settings import Settings
from streams.topics import outbound_topic
from tests.connectors.test_outbound_broker_outage import Inbox
from tests.hubtools import recommendation, report

pytestmark = pytest.mark.slow

PPK = "ppk.3374"
#: Longest wait for one condition, far more than it takes on a loaded machine.
DEADLINE = 120.0


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_a_hub_key_revoked_while_the_connector_runs_vouches_for_nothing_after(
    embedded_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    settings = Settings(home=home)
    ensure_local_keys(settings)
    # The hub's keys as they stand before the revocation: what a leaked key's holder signs with.
    hub_side = keyring_of(settings)
    catalog = default_catalog()
    inbox = Inbox(ConnectorConfig(institution=PPK), ConnectorContext(catalog, AvroCodec(catalog)))
    metrics = ConnectorMetrics()
    bootstrap = [embedded_broker.bootstrap_servers]
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    stop, ended = threading.Event(), list[BaseException]()

    def publish() -> str:
        """A new case's RecommendationIssued on the PPK's feed, vouched for by the hub's key."""
        case_id = report()["envelope"]["case_id"]
        entry = signed_entry(
            inbox.context.codec,
            "RecommendationIssued",
            recommendation(case_id),
            1,
            GENESIS_HASH,
            ring=hub_side,
            recipient=PPK,
        )
        value = inbox.context.codec.encode("kawal.AuditEntry", entry)
        producer.send(outbound_topic(PPK), key=case_id.encode(), value=value).get(30)
        return str(entry["event_id"])

    def run() -> None:
        try:  # the connector's own keyring: the home's keys and registry file
            run_connector(inbox, bootstrap, home, stop, metrics=metrics)
        except BaseException as exc:  # the test reads it: the connector must not end
            ended.append(exc)

    def revoked_refusals() -> float:
        labels = {"connector": inbox.name, "institution": PPK, "reason": "hub_key_revoked"}
        return metrics.registry.get_sample_value("kawal_connector_dead_letters_total", labels) or 0

    def registry_readable() -> float | None:
        labels = {"connector": inbox.name, "institution": PPK}
        return metrics.registry.get_sample_value("kawal_connector_key_registry_readable", labels)

    connector = threading.Thread(target=run, name=inbox.name)
    connector.start()
    try:
        before = publish()
        until(lambda: inbox.delivered == [before] or bool(ended), "the first entry never came")
        [hub_key] = [e.id for e in hub_side.registry.entries() if e.institution == HUB_INSTITUTION]
        revoke_key(settings.local_key_registry, hub_key, "key leaked", datetime.now(UTC))
        time.sleep(0.01)  # the next entry is recorded after the revocation
        after = publish()
        until(lambda: revoked_refusals() == 1 or bool(ended), "the entry was not refused")
        # An edit half done: the connector keeps the registry it read last, and says so.
        registry_file, good = settings.local_key_registry, settings.local_key_registry.read_text()
        registry_file.write_text(good + "\n[[keys]]\nid = \n")
        until(lambda: registry_readable() == 0.0 or bool(ended), "an unreadable file unseen")
        registry_file.write_text(good)
        until(lambda: registry_readable() == 1.0 or bool(ended), "the mended file unseen")
    finally:
        stop.set()
        connector.join(DEADLINE)
        producer.close()

    assert ended == []
    assert inbox.delivered == [before]
    assert after not in inbox.delivered
