"""A backlog on one inbound topic, and another institution's events meanwhile.

One institution (Bawaslu RI) imports a backlog of :data:`BACKLOG` reports on its inbound topic
as fast as the broker takes them; while the hub drains it, another institution (Bawaslu Jawa
Tengah, on a topic of its own) publishes one report a second and times its acceptance receipt.
Each institution publishes from its own system: the backlog from a process of its own, so the
probes neither queue behind its records in one producer nor wait for its thread's turn.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaConsumer, KafkaProducer

from schemas.codec import AvroCodec
from streams.audit.store import AuditStore
from streams.broker.publisher import EventPublisher
from streams.domain.hub_sealing import hub_sealing_key
from streams.domain.signed_events import encode_signed
from streams.headers import cloud_event_headers
from streams.topics import inbound_topic, outbound_topic

BACKLOG = int(os.environ.get("KAWAL_BENCH_BACKLOG", "50000"))
#: The institution whose events are timed while the backlog drains.
OTHER = "bawaslu.33"
#: Longest the drain may take before the run gives up, in seconds.
DRAIN_LIMIT_SECONDS = 1800.0


@dataclass(frozen=True)
class BacklogRun:
    """What one backlog run measured."""

    events: int
    drain_seconds: float
    receipt_ms: list[float]

    def lines(self) -> list[str]:
        """``name: value`` lines of the figures."""
        ordered = sorted(self.receipt_ms)
        return [
            f"backlog_events: {self.events}",
            f"backlog_drain_seconds: {self.drain_seconds:.1f}",
            f"backlog_events_per_second: {self.events / self.drain_seconds:.0f}",
            f"other_institution_probes_during_backlog: {len(ordered)}",
            f"other_institution_receipt_ms_during_backlog_p50: {ordered[len(ordered) // 2]:.0f}",
            f"other_institution_receipt_ms_during_backlog_max: {ordered[-1]:.0f}",
        ]


def run(
    publisher: EventPublisher,
    store: AuditStore,
    bootstrap: str,
    report: Callable[[str, int], dict[str, Any]],
) -> BacklogRun:
    """Drain a backlog of ``report("bawaslu", n)`` while timing ``report(OTHER, n)`` receipts."""
    codec = publisher.codec
    signed = _signed_backlog(publisher, report)
    receipts = _Receipts(bootstrap, codec)
    target = store.count() + len(signed)
    started = time.perf_counter()
    sending = multiprocessing.get_context("spawn").Process(
        target=_send_all, args=(bootstrap, signed), name="backlog-importer"
    )
    sending.start()
    sent: dict[str, float] = {}
    number = 0
    while store.count() < target:
        if time.perf_counter() - started > DRAIN_LIMIT_SECONDS:
            raise RuntimeError(f"the backlog did not drain in {DRAIN_LIMIT_SECONDS:.0f} s")
        if sending.exitcode:
            raise RuntimeError(f"the backlog's importer failed with exit code {sending.exitcode}")
        if store.count() < target - len(signed) // 20:  # probe while most is still queued
            record = report(OTHER, 20_000_000 + number)
            number += 1
            sent[record["envelope"]["event_id"]] = time.perf_counter()
            publisher.publish("ReportReceived", record)
            publisher.producer.flush()
        time.sleep(1.0)
    drained = time.perf_counter() - started
    sending.join()
    arrivals = receipts.stop(wait_for=set(sent))
    return BacklogRun(
        len(signed), drained, [(arrivals[e] - sent[e]) * 1000 for e in sent if e in arrivals]
    )


def _signed_backlog(
    publisher: EventPublisher, report: Callable[[str, int], dict[str, Any]]
) -> list[tuple[str, bytes, list[tuple[str, bytes]]]]:
    codec, now = publisher.codec, datetime.now(UTC)
    key = publisher.keyring.signing_key("bawaslu", now)
    hub = hub_sealing_key(publisher.keyring.registry, now)
    backlog = []
    for number in range(BACKLOG):
        record = report("bawaslu", 30_000_000 + number)
        value = encode_signed(codec.catalog, codec, key, "ReportReceived", record, hub)
        envelope = record["envelope"]
        backlog.append((envelope["case_id"], value, cloud_event_headers(envelope)))
    return backlog


def _send_all(bootstrap: str, signed: list[tuple[str, bytes, list[tuple[str, bytes]]]]) -> None:
    """The importing institution's system: its own producer, as an EventPublisher's."""
    producer = KafkaProducer(bootstrap_servers=[bootstrap], acks="all", linger_ms=5)
    for case_id, value, headers in signed:
        producer.send(inbound_topic("bawaslu"), key=case_id.encode(), value=value, headers=headers)
    producer.flush()
    producer.close()


class _Receipts:
    """Arrival times of acceptance receipts on :data:`OTHER`'s feed, collected in a thread."""

    def __init__(self, bootstrap: str, codec: AvroCodec) -> None:
        self.arrivals: dict[str, float] = {}
        self._codec = codec
        self._done = threading.Event()
        self._consumer = KafkaConsumer(
            outbound_topic(OTHER),
            bootstrap_servers=[bootstrap],
            auto_offset_reset="latest",
            fetch_max_wait_ms=5,
        )
        self._consumer.poll(timeout_ms=1000)  # join the partitions before the first probe
        self._thread = threading.Thread(target=self._collect)
        self._thread.start()

    def _collect(self) -> None:
        while not self._done.is_set():
            for batch in self._consumer.poll(timeout_ms=50).values():
                for message in batch:
                    receipt = self._codec.decode(message.value).record
                    if receipt.get("status") == "ACCEPTED":
                        self.arrivals[receipt["event_id"]] = time.perf_counter()

    def stop(self, wait_for: set[str], timeout: float = 30.0) -> dict[str, float]:
        """Stop once every id of ``wait_for`` has arrived (or ``timeout``); the arrivals."""
        deadline = time.monotonic() + timeout
        while not wait_for <= self.arrivals.keys() and time.monotonic() < deadline:
            time.sleep(0.05)
        self._done.set()
        self._thread.join()
        self._consumer.close()
        return self.arrivals
