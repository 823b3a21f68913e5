"""A siasn-blocks row dead-lettered, then corrected in SIASN's log itself, is read again.

SIASN's log only grows and the connector's checkpoint moves past a row it dead-letters; the
row's reason names the position to read again after (``--reread-after``), and the connector
started so publishes the corrected row, while the rows after it come again as the events the
hub already holds (same event ids).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from connectors.contract_base import FAST_RETRY, read_topic
from connectors.errors import TransientError
from connectors.host import run_connector
from connectors.runtime import InboundRunner, system_topic
from connectors.siasn.simulator import SiasnApi
from connectors.signed_fixtures import contract_keyring, signed_event_of
from schemas.errors import KawalError
from streams.broker.checkpoints import CheckpointStore
from streams.topics import DLQ, inbound_topic
from tests.connectors.test_siasn import NIP, TOKEN
from tests.connectors.test_siasn_blocks import blocked_case, blocks

WAIT_SECONDS = 30.0


@pytest.fixture
def api() -> Iterator[SiasnApi]:
    with SiasnApi(TOKEN) as running:
        yield running


def _published(broker: str, codec: Any) -> list[tuple[str, str, str]]:
    """(case id, event type, event id) of every event siasn-blocks published."""
    found = []
    for message in read_topic([broker], inbound_topic("bkn")):
        try:
            envelope = signed_event_of(codec, message.value)["envelope"]
        except KawalError:
            continue
        found.append((envelope["case_id"], envelope["event_type"], envelope["event_id"]))
    return found


def _first_pass(api: SiasnApi, broker: str, home: Path) -> str:
    """One read of the log by the runner, as the connector makes it; its dead letter's reason."""
    connector = blocks(api)
    checkpoints = CheckpointStore(home / "connectors" / "checkpoints.db")
    producer = KafkaProducer(bootstrap_servers=[broker], acks="all")
    runner = InboundRunner(
        connector, producer, connector.context.codec, checkpoints, FAST_RETRY, contract_keyring()
    )
    try:
        assert runner.run_once() == 2
        assert checkpoints.get("siasn-blocks") == "2"
    finally:
        producer.close()
        checkpoints.close()
        connector.close()
    codec = connector.context.codec
    (letter,) = [
        record
        for record in (codec.decode(m.value).record for m in read_topic([broker], DLQ))
        if record["source_topic"] == system_topic("siasn-blocks")
    ]
    assert letter["reason_code"] == "missing_case_reference"
    reason: str = letter["reason"]
    return reason


def test_a_row_corrected_in_the_log_is_read_again_after_the_position_its_letter_names(
    api: SiasnApi, tmp_path: Path, own_broker: str
) -> None:
    hand = api.block_by_hand(NIP, "ppk.3374")
    linked = blocked_case(api)
    reason = _first_pass(api, own_broker, tmp_path)
    assert "--reread-after 0`" in reason
    assert NIP not in reason

    case_ref = str(uuid.uuid4())
    api.block_log.correct(hand["seq"], case_ref=case_ref)
    connector = blocks(api, poll_seconds=0.2)
    codec = connector.context.codec
    stop = threading.Event()
    thread = threading.Thread(
        target=run_connector,
        args=(connector, [own_broker], tmp_path, stop),
        kwargs={"keyring": contract_keyring(), "reread_after": "0"},
    )
    thread.start()
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while not any(case == case_ref for case, _, _ in _published(own_broker, codec)):
            assert time.monotonic() < deadline, "the corrected row not published"
            time.sleep(0.3)
    finally:
        stop.set()
        thread.join(timeout=20)
    published = _published(own_broker, codec)
    assert [kind for case, kind, _ in published if case == case_ref] == ["PersonnelDataBlocked"]
    # The row after it came again as the same event, which the hub recognises as held.
    again = [event_id for case, _, event_id in published if case == linked]
    assert len(again) == 2
    assert len(set(again)) == 1
    assert CheckpointStore(tmp_path / "connectors" / "checkpoints.db").get("siasn-blocks") == "2"


def test_a_position_that_is_no_row_number_is_refused_saying_what_to_give(
    api: SiasnApi,
) -> None:
    connector = blocks(api)
    try:
        with pytest.raises(TransientError, match="--reread-after N"):
            connector.read("block-change/3", 10)
    finally:
        connector.close()
