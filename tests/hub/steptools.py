"""The pipeline step in process, without a broker: the app is built, never started."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import faust

from streams.app import create_app, create_disclosure_policy, create_pipeline, create_rules
from streams.audit.entry_rows import row_from_entry
from streams.audit.store import AuditStore
from streams.broker.partitioner import partition_of
from streams.domain.hub_sealing import hub_sealing_key
from streams.domain.keyring import KeyRing
from streams.domain.signed_events import encode_signed
from streams.hub.case_table import CaseBatch
from streams.hub.pipeline import Outgoing, Pipeline
from streams.hub.process_metrics import worker_metrics
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.settings import Settings
from streams.topics import CASE_AUDIT, inbound_topic
from tests.hubtools import registration, report

#: The key ring of each step's home, by its table (a replaced step keeps it): its institutions sign.
_RINGS: dict[int, KeyRing] = {}


def step_pipeline(
    home: Path, disclosure_file: Path | None = None, vault_url: str | None = None
) -> Pipeline:
    """A pipeline with the bundled rules, a worker's metrics and a producer never started.

    Keys for the hub and every institution are made in ``home`` first, as ``kawal up`` does.
    The disclosure policy is ``disclosure_file`` (KAWAL_DISCLOSURE_FILE), or the bundled one;
    the data-key vault is at ``vault_url`` (KAWAL_VAULT_URL), or SQLite in ``home``.
    """
    settings = Settings(
        home=home,
        broker_url="kafka://127.0.0.1:1",
        disclosure_file=disclosure_file,
        vault_url=vault_url,
    )
    ensure_local_keys(settings)
    rules = create_rules(settings)
    metrics = worker_metrics(rules.deadline_rules)
    policy = create_disclosure_policy(settings, rules)
    step = create_pipeline(settings, create_app(settings), rules, metrics, policy)
    _RINGS[id(step.table)] = keyring_of(settings)
    return step


def accepted_case(step: Pipeline, store: AuditStore) -> str:
    """A reported and registered case through the step, its entries in ``store``; its id."""
    cases = CaseBatch({})
    first = report("bawaslu.33")
    case_id: str = first["envelope"]["case_id"]
    steps = [("ReportReceived", first), ("ReportRegistered", registration(case_id))]
    entries = [
        step.codec.decode(value).record
        for offset, (event_type, record) in enumerate(steps)
        for topic, _, value, _ in step.decide(
            cases, inbound_message(step, event_type, record, offset)
        )
        if topic == CASE_AUDIT
    ]
    assert entries[0]["vaulted_disclosures"], "a report keeps the reporter's values"
    store.insert([row_from_entry(entry) for entry in entries])
    return case_id


def on_tables(step: Pipeline, table: Any, index: Any) -> Pipeline:
    """``step`` over another case table and accepted-event index, its institutions' keys kept."""
    _RINGS[id(table)] = keyring(step)
    return replace(step, table=table, index=index)


def keyring(step: Pipeline) -> KeyRing:
    """The keys the institutions of ``step``'s home sign with."""
    return _RINGS[id(step.table)]


def signed_value(step: Pipeline, event_type: str, record: dict[str, Any]) -> bytes:
    """``record`` signed by its source, as its connector publishes it."""
    envelope = record["envelope"]
    key = keyring(step).signing_key(envelope["source"], envelope["event_time"])
    hub = hub_sealing_key(keyring(step).registry, envelope["event_time"])
    return encode_signed(step.codec.catalog, step.codec, key, event_type, record, hub)


def inbound_message(
    step: Pipeline,
    event_type: str,
    record: dict[str, Any],
    offset: int,
    received_at: datetime | None = None,
) -> faust.types.Message:
    """``record``, signed, as its inbound topic delivers it: at ``offset`` of its partition."""
    value = signed_value(step, event_type, record)
    return raw_message(step, record, value, offset, received_at)


def raw_message(
    step: Pipeline,
    record: dict[str, Any],
    value: bytes,
    offset: int,
    received_at: datetime | None = None,
) -> faust.types.Message:
    """``value`` on the inbound topic of ``record``'s source, keyed by its case, on its partition.

    The broker stamps it ``received_at``, or now.
    """
    envelope = record["envelope"]
    key = envelope["case_id"].encode()
    return faust.types.Message(
        topic=inbound_topic(envelope["source"]),
        partition=partition_of(key, step.rules.partitions),
        offset=offset,
        timestamp=received_at.timestamp() if received_at else time.time(),
        timestamp_type=0,
        headers=[],
        key=key,
        value=value,
        checksum=None,
    )


class HubInbound:
    """``kawal.inbound.kawal`` as the broker would take it: each record kept, acknowledged."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, bytes]] = []

    async def send(self, *, key: bytes, value: bytes) -> Awaitable[Any]:
        self.sent.append((key, value))
        acknowledged: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        acknowledged.set_result(None)
        return acknowledged


class StepWorker:
    """The step, its case batch and its table value per case, as the worker keeps them."""

    def __init__(self, step: Pipeline) -> None:
        self.step = step
        self.cases = CaseBatch({})
        self.table: dict[str, dict[str, Any]] = {}
        self.offset = 0

    def take(self, message: faust.types.Message) -> list[Outgoing]:
        """What the step makes of ``message``; the case's table value kept as the worker does."""
        produced = self.step.decide(self.cases, message)
        case_id = message.key.decode() if isinstance(message.key, bytes) else ""
        known = self.cases.get(case_id)
        if known is not None:
            self.table[case_id] = known.to_json()
        self.offset += 1
        return produced
