"""``inspektorat-feed``: the office's feed and the hub's refusals of its events, as files on its
share: the outbound contract, and a refusal named by the batch row it came from.
"""

from __future__ import annotations

import json
import time
import uuid
import zlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from connectors.contract import OutboundContract
from connectors.contract_base import FAST_RETRY, WAIT_SECONDS
from connectors.contract_outbound import feed_from_its_end
from connectors.errors import TransientError
from connectors.feed_chains import FeedChains
from connectors.host import build
from connectors.inspektorat.feed import FeedDrop
from connectors.inspektorat.simulator import InspectorateOffice
from connectors.outbound_runner import OutboundRunner
from connectors.signed_fixtures import contract_keyring
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from schemas.envelope import envelope
from schemas.identity import case_id_for
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.lifecycle import CLOSED_ADVICE
from streams.domain.reasons import Reason, Rejection
from streams.hub.receipts import rejection_receipt
from streams.topics import inbound_topic, outbound_topic
from tests.hubtools import referral, report

NAME = "inspektorat-feed"
INSTITUTION = "inspektorat.3374"
CODEC = AvroCodec(default_catalog())
DETAIL = "the case is closed; ExaminationCompleted cannot follow" + CLOSED_ADVICE


@contextmanager
def _office(tmp_path: Path) -> Iterator[InspectorateOffice]:
    yield InspectorateOffice(tmp_path / "office", seed=zlib.crc32(tmp_path.name.encode()))


def config_of(office: InspectorateOffice) -> dict[str, Any]:
    return {"institution": INSTITUTION, "drop_dir": str(office.share)}


class TestFeedDropContract(OutboundContract):
    connector_name = NAME

    def start_system(self, tmp_path: Path) -> AbstractContextManager[Any]:
        return _office(tmp_path)

    def config(self, system: Any, tmp_path: Path) -> dict[str, Any]:
        return config_of(system)

    def feed_events(self) -> list[tuple[str, dict[str, Any]]]:
        first = report()
        return [
            ("ReportReceived", first),
            ("ReferralForwarded", referral(first["envelope"]["case_id"])),
        ]

    def effects(self, system: Any, event_id: str) -> int:
        return sum(doc["event_id"] == event_id for doc in system.feed().values())

    def unreachable(self, system: Any) -> AbstractContextManager[None]:
        return system.offline()  # type: ignore[no-any-return]


@pytest.fixture
def office(tmp_path: Path) -> Iterator[InspectorateOffice]:
    with _office(tmp_path) as running:
        yield running


def test_an_entry_is_named_by_its_case_and_trail_position(
    office: InspectorateOffice, tmp_path: Path
) -> None:
    contract = TestFeedDropContract()
    connector = contract.outbound(office, tmp_path)
    [entry, later] = contract.entries(connector)
    connector.deliver(entry)
    connector.deliver(later)

    names = {
        e.event_id: f"{e.case_id}.{int(e.entry['seq']):08d}.{e.event_id}.json"
        for e in (entry, later)
    }
    assert sorted(office.feed()) == sorted(names.values())
    document = office.feed()[names[entry.event_id]]
    assert (document["event_type"], document["case_id"]) == (entry.event_type, entry.case_id)
    assert document["seq"] == entry.entry["seq"]


def test_a_share_whose_feed_folder_is_a_link_holds_the_feed(
    office: InspectorateOffice, tmp_path: Path
) -> None:
    contract = TestFeedDropContract()
    connector = contract.outbound(office, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (office.share / "feed").symlink_to(elsewhere)

    with pytest.raises(TransientError, match="the feed is held until it is back"):
        connector.deliver(contract.entries(connector)[0])
    assert list(elsewhere.iterdir()) == []


def refused_examination(event_id: str) -> dict[str, Any]:
    """The receipt the hub signs for an examination of the office's it refused."""
    hub = contract_keyring().signing_key(HUB_INSTITUTION, datetime.now(UTC))
    event = envelope(
        event_id=event_id,
        case_id=case_id_for("bawaslu.33", f"LP/{uuid.uuid4().hex[:8]}"),
        event_type="ExaminationCompleted",
        event_time=datetime.now(UTC),
        source=INSTITUTION,
        actor_ref="actor:itda",
    )
    why = Rejection(Reason.CASE_CLOSED, DETAIL)
    return rejection_receipt(hub, why, (inbound_topic(INSTITUTION), 0, 7), event, None)


@pytest.mark.slow
def test_a_row_the_hub_refused_is_told_with_its_batch_and_row(
    office: InspectorateOffice, kawal_broker: list[str]
) -> None:
    event_id = str(uuid.uuid4())
    # The batch receipt the inbound connector wrote: row 2 became this event.
    receipts = office.share / "receipts"
    receipts.mkdir(parents=True, exist_ok=True)
    accepted = [{"row": 2, "record_id": "ITDA-77", "event_ids": [event_id]}]
    (receipts / "ITDA3374_001.csv.receipt.json").write_text(
        json.dumps({"batch": "ITDA3374_001.csv", "accepted": accepted, "rejected": []})
    )
    receipt = refused_examination(event_id)
    connector = build(NAME, config_of(office))
    assert isinstance(connector, FeedDrop)
    consumer = feed_from_its_end(outbound_topic(INSTITUTION), kawal_broker)
    producer = KafkaProducer(bootstrap_servers=kawal_broker, acks="all")
    runner = OutboundRunner(
        connector, consumer, producer, CODEC, FAST_RETRY, contract_keyring(), FeedChains(":memory:")
    )
    try:
        value = CODEC.encode("kawal.Receipt", receipt, checked=False)
        producer.send(outbound_topic(INSTITUTION), key=receipt["case_id"].encode(), value=value)
        producer.flush()
        deadline = time.monotonic() + WAIT_SECONDS
        while not office.hub_refusals() and time.monotonic() < deadline:
            runner.run_once(timeout_ms=100)
    finally:
        consumer.close()
        producer.close()

    assert office.hub_refusals() == [
        {
            "event_id": event_id,
            "case_id": receipt["case_id"],
            "event_type": "ExaminationCompleted",
            "reason_code": "case_closed",
            "reason": DETAIL,
            "refused_at": receipt["issued_at"].isoformat(),
            "source": f"{inbound_topic(INSTITUTION)}:0:7",
            "batch": "ITDA3374_001.csv",
            "row": 2,
            "record_id": "ITDA-77",
        }
    ]
    assert list(office.feed()) == [f"refused.{event_id}.json"]
