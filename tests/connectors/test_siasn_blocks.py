"""SIASN's block log → PersonnelDataBlocked / Unblocked: the contract suite, and each row."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from connectors.base import ConnectorConfig, InboundConnector
from connectors.contract import InboundContract
from connectors.contract_base import FAST_RETRY, read_topic
from connectors.errors import PermanentError, TransientError
from connectors.host import build
from connectors.http import post_json
from connectors.runtime import InboundRunner, system_topic
from connectors.siasn.blocks import SiasnBlocks
from connectors.siasn.simulator import SiasnApi, demo_setup
from connectors.signed_fixtures import contract_keyring, signed_event_of
from schemas.codec import AvroCodec
from schemas.errors import KawalError
from schemas.identity import case_id_for
from streams.broker.checkpoints import CheckpointStore
from streams.topics import DLQ, inbound_topic
from tests.connectors.test_siasn import NIP, TOKEN, _entries, _siasn, siasn_case


def settings(api: SiasnApi, **overrides: Any) -> dict[str, Any]:
    config = {"institution": "bkn", "base_url": api.base_url, "token": TOKEN}
    return config | {"timeout_seconds": 0.5} | overrides


def blocks(api: SiasnApi, **overrides: Any) -> InboundConnector[ConnectorConfig]:
    connector = build("siasn-blocks", settings(api, **overrides))
    assert isinstance(connector, SiasnBlocks)
    return connector


def _post(api: SiasnApi, path: str, body: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": str(uuid.uuid4())}
    status, _ = post_json(api.base_url + path, json.dumps(body).encode(), headers, 5.0)
    assert status == 201


def blocked_case(api: SiasnApi) -> str:
    """A case SIASN links to :data:`NIP` and has blocked, as the siasn connector writes them."""
    case_ref = case_id_for("bawaslu.33", f"LP/{uuid.uuid4().hex[:10]}")
    link = {"case_ref": case_ref, "nip": NIP, "employing_agency": "ppk.3374"}
    _post(api, "/neutrality-cases", link)
    block = {"case_ref": case_ref, "reason": "RECOMMENDATION_NOT_FOLLOWED_UP"}
    _post(api, "/blocks", block | {"breach_event_id": str(uuid.uuid4())})
    return case_ref


class TestSiasnBlocksContract(InboundContract):
    connector_name = "siasn-blocks"

    def start_system(self, tmp_path: Path) -> AbstractContextManager[Any]:
        return SiasnApi(TOKEN)

    def config(self, system: Any, tmp_path: Path) -> dict[str, Any]:
        return settings(system)

    def add_records(self, system: Any, count: int) -> None:
        for _ in range(count):
            blocked_case(system)

    def add_malformed(self, system: Any) -> None:
        system.block_by_hand(NIP, "ppk.3374")

    def unreachable(self, system: Any) -> AbstractContextManager[None]:
        return system.offline()  # type: ignore[no-any-return]


@pytest.fixture
def api() -> Iterator[SiasnApi]:
    with SiasnApi(TOKEN) as running:
        yield running


def test_a_breach_block_and_a_sanction_lifting_it_become_blocked_and_unblocked(
    api: SiasnApi,
) -> None:
    siasn = _siasn(api)
    report, breach, sanction, closed = _entries(siasn, siasn_case())
    for entry in (report, breach, sanction, closed):
        siasn.deliver(entry)
    connector = blocks(api)
    applied, lifted = connector.read(None, 10)
    (block,) = connector.to_events(applied)
    (unblock,) = connector.to_events(lifted)

    assert block.event_type == "PersonnelDataBlocked"
    assert block.record["envelope"]["case_id"] == report.case_id
    assert block.record["envelope"]["source"] == "bkn"
    assert block.record["reason"] == "RECOMMENDATION_NOT_FOLLOWED_UP"
    assert block.record["breach_event_id"] == breach.event_id
    assert block.record["subject_nip"] == NIP
    assert block.record["employing_agency"] == "ppk.3374"
    assert unblock.event_type == "PersonnelDataUnblocked"
    assert unblock.record["blocking_reference"] == block.record["blocking_reference"]
    assert unblock.record["reason"] == "SANCTION_IMPOSED"
    assert unblock.record["sanction_decree_number"] == sanction.event["decree_number"]
    assert connector.read(lifted.position, 10) == []  # the close found no block to lift
    connector.close()


def test_a_block_released_on_closing_becomes_unblocked_for_the_closing(api: SiasnApi) -> None:
    siasn = _siasn(api)
    report, breach, _, closed = _entries(siasn, siasn_case())
    for entry in (report, breach, closed):
        siasn.deliver(entry)
    connector = blocks(api)
    _, lifted = connector.read(None, 10)
    (unblock,) = connector.to_events(lifted)
    assert unblock.record["reason"] == "CASE_CLOSED"
    assert unblock.record["sanction_decree_number"] is None
    connector.close()


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("case_ref", None, "missing_case_reference"),
        ("nip", "1985-0101-2010", "invalid_nip"),
        ("reason", "LATE", "invalid_block_reason"),
        ("reason", "UNKNOWN", "invalid_block_reason"),
        ("at", "2026-12-01T10:00:00", "invalid_time"),
        ("change", "FROZEN", "unknown_block_change"),
        ("blocking_reference", NIP + " Budi", "invalid_blocking_reference"),
        ("employing_agency", "PPK Kota Semarang", "invalid_employing_agency"),
        ("breach_event_id", "breach-1", "invalid_breach_event_id"),
    ],
)
def test_a_row_the_hub_cannot_take_is_refused_naming_the_column_never_its_value(
    api: SiasnApi, column: str, value: Any, code: str
) -> None:
    blocked_case(api)
    connector = blocks(api)
    (record,) = connector.read(None, 10)
    payload = dict(record.payload) | {column: value}
    with pytest.raises(PermanentError) as refused:
        connector.to_events(type(record)(record.position, payload, record.source_id))
    assert refused.value.reason_code == code
    assert NIP not in refused.value.reason
    assert "Budi" not in refused.value.reason
    assert "correct the block in SIASN" in refused.value.reason
    connector.close()


def test_a_wrong_token_is_retried_and_never_quoted(api: SiasnApi) -> None:
    connector = blocks(api, token="expired-token-from-2023")
    with pytest.raises(TransientError, match="renew `token`") as refused:
        connector.read(None, 10)
    assert "expired-token" not in str(refused.value)
    connector.close()


def test_a_read_during_a_siasn_fault_is_transient() -> None:
    with SiasnApi(TOKEN, error_rate=1.0) as api:
        connector = blocks(api)
        with pytest.raises(TransientError, match="HTTP 5"):
            connector.read(None, 10)
        connector.close()


def test_a_block_made_by_hand_is_dead_lettered_and_a_second_read_publishes_nothing_twice(
    api: SiasnApi, tmp_path: Path, own_broker: str
) -> None:
    kawal_broker = [own_broker]  # its DLQ holds this test's letters only
    hand = api.block_by_hand(NIP, "ppk.3374")
    case_ref = blocked_case(api)
    connector = blocks(api)
    checkpoints = CheckpointStore(tmp_path / "checkpoints.db")
    producer = KafkaProducer(bootstrap_servers=kawal_broker, acks="all")
    runner = InboundRunner(
        connector, producer, connector.context.codec, checkpoints, FAST_RETRY, contract_keyring()
    )
    try:
        assert runner.run_once() == 2
        assert runner.run_once() == 0  # from the checkpoint: nothing new
    finally:
        producer.close()
        checkpoints.close()
        connector.close()
    codec = connector.context.codec
    letters = [
        letter
        for letter in (codec.decode(m.value).record for m in read_topic(kawal_broker, DLQ))
        if letter["source_topic"] == system_topic("siasn-blocks")
        and f"record block-change/{hand['seq']}:" in letter["reason"]
    ]
    assert [letter["reason_code"] for letter in letters] == ["missing_case_reference"]
    assert "names no neutrality case" in letters[0]["reason"]
    assert NIP not in letters[0]["reason"]
    published = [_envelope(codec, m.value) for m in read_topic(kawal_broker, inbound_topic("bkn"))]
    mine = [e for e in published if e is not None and e["case_id"] == case_ref]
    assert [e["event_type"] for e in mine] == ["PersonnelDataBlocked"]


def _envelope(codec: AvroCodec, value: bytes) -> dict[str, Any] | None:
    """The envelope of a signed inbound record; None for another test's record that is not."""
    try:
        found: dict[str, Any] = signed_event_of(codec, value)["envelope"]
    except KawalError:
        return None
    return found


def test_the_demo_runs_siasn_blocks_against_the_siasn_it_writes_to(tmp_path: Path) -> None:
    api, configs = demo_setup(tmp_path)
    try:
        assert set(configs) == {"siasn", "siasn-blocks"}
        assert configs["siasn-blocks"]["base_url"] == configs["siasn"]["base_url"]
        connector = build("siasn-blocks", configs["siasn-blocks"])
        assert isinstance(connector, SiasnBlocks)
        connector.close()
    finally:
        api.stop()
