"""The hub's rejection receipts on an institution's feed reach its operators, signed or refused.

An inbound connector publishes and moves on: when the hub refuses the event, the signed
receipt on the institution's feed is the only word of it the institution gets. Its outbound
connector checks the signature, logs the refusal and passes it to the connector.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from kafka import KafkaConsumer, KafkaProducer

from connectors.base import ConnectorConfig, ConnectorContext, FeedEntry, OutboundConnector
from connectors.contract_base import FAST_RETRY, WAIT_SECONDS
from connectors.contract_outbound import feed_from_its_end
from connectors.feed_chains import FeedChains
from connectors.outbound_runner import OutboundRunner
from connectors.receipts import HubRefusal, believed_refusal
from connectors.signed_fixtures import contract_keyring
from monitoring.connectors import ConnectorMetrics
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from schemas.envelope import envelope
from schemas.identity import case_id_for
from streams.domain.entries import EntryProblem
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keyring import KeyRing
from streams.domain.ledger import Link
from streams.domain.reasons import Reason, Rejection
from streams.domain.signing import SigningKey
from streams.hub.receipts import acceptance_receipt, rejection_receipt
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.local.processes import ChildProcess
from streams.settings import Settings
from streams.topics import inbound_topic, outbound_topic
from tests.connectors.test_connector_cli import TOKEN, _wait, dead_letter_with

INSTITUTION = "bawaslu.33"
#: The logger the outbound runner writes to.
RUNNER_LOG = "connectors.outbound_runner"

CODEC = AvroCodec(default_catalog())
NOW = datetime.now(UTC)
DETAIL = "region_code: the region code names no province: use a Kemendagri code such as 3374"


def refused_report(
    ring: KeyRing, *, forged: bool = False, rejection: Rejection | None = None
) -> dict[str, Any]:
    """The receipt the hub signs for a ReportReceived of bawaslu.33 it refused.

    ``rejection``: why (by default an unknown region).
    """
    hub = ring.signing_key(HUB_INSTITUTION, NOW)
    if forged:  # the hub's key id, another key: whoever can write the feed
        hub = SigningKey(hub.key_id, Ed25519PrivateKey.generate())
    event = envelope(
        event_id=str(uuid.uuid4()),
        case_id=case_id_for("bawaslu.33", f"LP/{uuid.uuid4().hex[:8]}"),
        event_type="ReportReceived",
        event_time=NOW,
        source="bawaslu.33",
        actor_ref="actor:test",
    )
    source = (inbound_topic("bawaslu.33"), 0, 41)
    why = rejection or Rejection(Reason.UNKNOWN_REGION, DETAIL)
    return rejection_receipt(hub, why, source, event, None)


def test_a_signed_refusal_is_believed_and_an_acceptance_is_none() -> None:
    ring = KeyRing.generated([HUB_INSTITUTION, "bawaslu.33"], NOW.replace(year=2020))
    receipt = refused_report(ring)

    refusal = believed_refusal(ring.registry, receipt)

    assert refusal == HubRefusal(
        event_id=receipt["event_id"],
        case_id=receipt["case_id"],
        event_type="ReportReceived",
        reason_code="unknown_region",
        reason=DETAIL,
        source="kawal.inbound.bawaslu.33:0:41",
        issued_at=receipt["issued_at"],
    )
    link = Link(seq=1, prev_hash="00" * 32, hash="11" * 32, new=True)
    accepted = acceptance_receipt(("t", 0, 1), receipt, link, NOW, ("k", b"s"))
    assert believed_refusal(ring.registry, accepted) is None


def test_a_refusal_the_hub_did_not_sign_is_not_believed() -> None:
    ring = KeyRing.generated([HUB_INSTITUTION, "bawaslu.33"], NOW.replace(year=2020))
    forged = refused_report(ring, forged=True)
    altered = refused_report(ring) | {"reason_code": "duplicate_event"}
    # A field the hub always fills left empty: no statement to check. Before, the check
    # failed on it, and with it the connector's pass, at every pass.
    emptied = refused_report(ring) | {"reason_code": None}

    for receipt in (forged, altered, emptied):
        problem = believed_refusal(ring.registry, receipt)
        assert isinstance(problem, EntryProblem)
        assert problem.code == "hub_signature_invalid"


@pytest.mark.slow
def test_the_outbound_connector_logs_a_refusal_and_dead_letters_a_forged_one(
    own_broker: str, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home")
    ensure_local_keys(settings)
    ring = keyring_of(settings)
    genuine, forged = refused_report(ring), refused_report(ring, forged=True)
    producer = KafkaProducer(bootstrap_servers=[own_broker], acks="all")
    for receipt in (genuine, forged):
        value = CODEC.encode("kawal.Receipt", receipt, checked=False)
        producer.send(outbound_topic("bawaslu.33"), key=receipt["case_id"].encode(), value=value)
    producer.flush()
    producer.close()
    env = dict(
        os.environ,
        KAWAL_HOME=str(settings.home),
        KAWAL_BROKER_URL=f"tansu://{own_broker}",
        KAWAL_CONNECTOR_METRICS_PORT="0",
    )
    config = tmp_path / "callback.toml"
    config.write_text(
        f'institution = "bawaslu.33"\ncallback_url = "http://127.0.0.1:9/x"\ntoken = "{TOKEN}"\n'
    )
    command = [sys.executable, "-m", "streams.cli", "connector", "run", "bawaslu-callback"]
    connector = ChildProcess(
        "connector", [*command, "--config", str(config)], tmp_path / "c.log", env=env
    )
    connector.start()
    try:
        _wait(dead_letter_with(env, "hub_signature_invalid"), connector.log_tail)
        log = (tmp_path / "c.log").read_text()
    finally:
        connector.stop(20)
    warned = [line for line in log.splitlines() if "the hub refused" in line]
    assert len(warned) == 1, log
    assert "WARNING" in warned[0]
    assert f"ReportReceived {genuine['event_id']} of case {genuine['case_id']}" in warned[0]
    assert "(unknown_region at kawal.inbound.bawaslu.33:0:41)" in warned[0]
    assert DETAIL in warned[0]


#: What ingress says of an event id it accepted before (streams.hub.ingress.examine).
DUPLICATE_DETAIL = (
    "event_id already accepted at kawal.inbound.bawaslu.33:0:12, which stands: harmless if this "
    "is the same event sent again; another event needs an event_id of its own"
)


class Listening(OutboundConnector[ConnectorConfig]):
    """A system that keeps what the runtime tells it of the hub's refusals."""

    name = "listening-inbox"

    def __init__(self) -> None:
        catalog = default_catalog()
        super().__init__(ConnectorConfig(institution=INSTITUTION), ConnectorContext(catalog, CODEC))
        self.refusals: list[HubRefusal] = []

    def deliver(self, entry: FeedEntry) -> None:
        """Nothing of an entry matters here."""

    def refused(self, refusal: HubRefusal) -> None:
        """Keep the refusal, as a system marking its record refused."""
        self.refusals.append(refusal)


def _feed_consumer(bootstrap: list[str]) -> KafkaConsumer:
    """A consumer of bawaslu.33's feed from its end now: only what the test sends."""
    return feed_from_its_end(outbound_topic(INSTITUTION), bootstrap)


def test_a_re_read_event_answered_duplicate_is_held_already_not_refused(
    kawal_broker: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    ring = contract_keyring()
    # A record read again after --reread-after: the hub answers its event duplicate_event.
    again = refused_report(ring, rejection=Rejection(Reason.DUPLICATE, DUPLICATE_DETAIL))
    refused = refused_report(ring)
    connector, metrics = Listening(), ConnectorMetrics()
    consumer = _feed_consumer(kawal_broker)
    producer = KafkaProducer(bootstrap_servers=kawal_broker, acks="all")
    probe = metrics.probe(connector.name, INSTITUTION)
    runner = OutboundRunner(
        connector, consumer, producer, CODEC, FAST_RETRY, ring, FeedChains(":memory:"), probe=probe
    )
    caplog.set_level(logging.INFO, logger=RUNNER_LOG)
    try:
        for receipt in (again, refused):
            value = CODEC.encode("kawal.Receipt", receipt, checked=False)
            key = receipt["case_id"].encode()
            producer.send(outbound_topic(INSTITUTION), key=key, value=value).get(30)
        handled, deadline = 0, time.monotonic() + WAIT_SECONDS
        while handled < 2 and time.monotonic() < deadline:
            handled += runner.run_once(timeout_ms=100)
    finally:
        consumer.close()
        producer.close()

    assert handled == 2
    assert [refusal.event_id for refusal in connector.refusals] == [refused["event_id"]]
    labels = {"connector": connector.name, "institution": INSTITUTION}
    sample = metrics.registry.get_sample_value
    assert (
        sample("kawal_connector_hub_refusals_total", labels | {"reason": "duplicate_event"}) is None
    )
    assert sample("kawal_connector_hub_refusals_total", labels | {"reason": "unknown_region"}) == 1
    assert sample("kawal_connector_already_held_total", labels) == 1
    assert sample("kawal_connector_up", labels) == 1
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == RUNNER_LOG]
    about_again = [(level, line) for level, line in lines if again["event_id"] in line]
    assert about_again == [
        (
            "INFO",
            f"listening-inbox: the hub holds ReportReceived {again['event_id']} of case "
            f"{again['case_id']} already (sent again, answered duplicate_event at "
            "kawal.inbound.bawaslu.33:0:41); nothing to do",
        )
    ]
    assert [level for level, line in lines if "the hub refused" in line] == ["WARNING"]
