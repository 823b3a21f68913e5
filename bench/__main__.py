"""``make bench``: throughput, latency and cost at rest of the hub, as ``name: value`` lines.

Figures are only comparable within one run (shared, noisy machines): compare
``pipeline_events_per_second`` with ``raw_decode_events_per_second`` of the same run, and with
``pipeline_step_events_per_second``, the hub's own logic per event without a broker.
``pipeline_cpu_us_per_event.*`` says which process spent the CPU of the throughput run
(:mod:`bench.cpu_split`), and ``cpu_ceiling_events_per_second`` the rate those costs allow on
this machine's cores.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from faust.types import Message
from kafka import KafkaConsumer

from bench import at_rest, backlog, case_memory, cpu_split, public_pages, two_workers
from monitoring.metrics import HubMetrics
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from schemas.envelope import envelope
from schemas.identity import case_id_for
from streams.app import create_app, create_disclosure_policy, create_pipeline, create_rules
from streams.audit.replay import replay
from streams.audit.store import AuditStore
from streams.broker.partitioner import partition_of
from streams.broker.provision import provision_topics
from streams.broker.publisher import EventPublisher
from streams.domain.hub_sealing import hub_sealing_key
from streams.domain.institutions import load_institutions
from streams.domain.signed_events import encode_signed
from streams.headers import cloud_event_headers
from streams.hub.case_table import CaseBatch
from streams.hub.pipeline import BATCH_SIZE
from streams.local.embedded import EmbeddedBroker
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.local.processes import ChildProcess, free_port
from streams.settings import Settings
from streams.topics import all_topics, inbound_topic, outbound_topic

#: An inbound record ready to send: case id, Avro bytes and headers.
Outgoing = tuple[str, bytes, list[tuple[str, bytes]]]

EVENTS = int(os.environ.get("KAWAL_BENCH_EVENTS", "5000"))
#: The generated national registry (1,741 institutions) kept as test data.
NATIONAL_REGISTRY = Path(__file__).parents[1] / "tests" / "data" / "national" / "institutions.toml"
READY_SECONDS = 60.0
#: Publishing rate and event count of the latency measurement.
LATENCY_RATE = 200.0
LATENCY_EVENTS = 2_000


def report(number: int, source: str = "bawaslu") -> dict[str, Any]:
    """A ReportReceived of a new case, reported by ``source``."""
    case_number = f"BENCH/{number}/{uuid.uuid4().hex[:8]}"
    return {
        "envelope": envelope(
            event_id=str(uuid.uuid4()),
            case_id=case_id_for(source, case_number),
            event_type="ReportReceived",
            event_time=datetime.now(UTC),
            source=source,
            actor_ref="actor:bench",
        ),
        "case_number": case_number,
        "election": "pilkada-2024",
        "region_code": "33",
        "employing_agency": "ppk.3374",
        "violation": "ETHICS_BANNER",
        "discovered_on": date(2024, 11, 1),
        "summary": "Benchmark report.",
        "subject_nip": "199001012015031001",
        "subject_name": "Bench Subject",
        "reporter_ref": "reporter:" + uuid.uuid4().hex[:24],
        "reporter_identity": None,
    }


def step_rate(encoded: list[tuple[str, bytes]], home: Path) -> float:
    """Events per second the pipeline's step (ingress, ledger, router) takes, broker aside.

    The same records, built into the records they produce, in this process on one core: the
    part of ``pipeline_events_per_second`` that is the hub's own logic. ``home`` holds the keys.
    """
    settings = Settings(home=home, broker_url="tansu://127.0.0.1:9", web_port=9)
    rules = create_rules(settings)
    policy = create_disclosure_policy(settings, rules)
    step = create_pipeline(settings, create_app(settings), rules, HubMetrics(), policy)
    now = time.time()
    messages = [
        Message(
            topic=inbound_topic("bawaslu"),
            partition=partition_of(key.encode(), settings.partitions),
            offset=offset,
            timestamp=now,
            timestamp_type=0,
            headers=[],
            key=key.encode(),
            value=value,
            checksum=None,
        )
        for offset, (key, value) in enumerate(encoded)
    ]
    cases = CaseBatch({})
    started = time.perf_counter()
    # As the worker does: the data keys of each batch's cases in one vault call, and the hub's
    # signing key chosen once per batch.
    for first in range(0, len(messages), BATCH_SIZE):
        batch = messages[first : first + BATCH_SIZE]
        keys = step.case_keys.keys_for([bytes(m.key or b"").decode() for m in batch], create=True)
        hub_key = step.hub_key.key_at(datetime.now(UTC))
        for message in batch:
            step.decide(cases, message, keys, hub_key)
    return len(messages) / (time.perf_counter() - started)


def signed_outgoing(publisher: EventPublisher, records: list[dict[str, Any]]) -> list[Outgoing]:
    """The records signed by Bawaslu RI with the publisher's keys, ready to send."""
    codec, keyring, now = publisher.codec, publisher.keyring, datetime.now(UTC)
    key, hub = keyring.signing_key("bawaslu", now), hub_sealing_key(keyring.registry, now)
    return [
        (
            record["envelope"]["case_id"],
            encode_signed(codec.catalog, codec, key, "ReportReceived", record, hub),
            cloud_event_headers(record["envelope"]),
        )
        for record in records
    ]


def raw_decode_rate(codec: AvroCodec, encoded: list[bytes]) -> float:
    """Events per second fastavro decodes through the codec, nothing else."""
    started = time.perf_counter()
    for data in encoded:
        codec.decode(data)
    return len(encoded) / (time.perf_counter() - started)


@contextmanager
def running_hub(
    codec: AvroCodec, workdir: Path, worker_env: dict[str, str] | None = None
) -> Iterator[tuple[EventPublisher, AuditStore, str, str]]:
    """A real broker, one worker and the audit sink, with keys in ``workdir/home/keys``.

    Yields a warm publisher, the audit store, the bootstrap server and the worker's web URL.
    ``worker_env`` adds settings of both processes.
    """
    broker = EmbeddedBroker.ephemeral(workdir / "logs", port=free_port())
    broker.start()
    children: list[ChildProcess] = []
    try:
        settings = Settings(
            home=workdir / "home",
            broker_url=broker.url,
            web_port=free_port(),
            sink_port=free_port(),
            audit_db_url=(worker_env or {}).get("KAWAL_AUDIT_DB_URL"),
        )
        provision_topics(
            [broker.bootstrap_servers], all_topics(load_institutions(), settings.partitions)
        )
        ensure_local_keys(settings)
        children = [
            _start(command, settings, workdir, worker_env) for command in ("worker", "sink")
        ]
        store = AuditStore(settings.audit_url)
        publisher = EventPublisher([broker.bootstrap_servers], codec, keyring_of(settings))
        _warm_up(publisher, store, children)
        yield publisher, store, broker.bootstrap_servers, f"http://127.0.0.1:{settings.web_port}"
        publisher.close()
    finally:
        for child in children:
            child.stop(20)
        broker.stop()


def pipeline_rate(publisher: EventPublisher, store: AuditStore, outgoing: list[Outgoing]) -> float:
    """Events per second from first publish to the last row in the audit store.

    The events are signed and encoded before the clock starts: that is the institutions' work,
    done on their own machines, not on the hub's two cores.
    """
    target = store.count() + len(outgoing)
    started = time.perf_counter()
    for case_id, value, headers in outgoing:
        publisher.send_raw("bawaslu", case_id, value, headers)
    publisher.flush()
    while store.count() < target:
        time.sleep(0.01)
    return len(outgoing) / (time.perf_counter() - started)


def latency_ms(
    publisher: EventPublisher, bootstrap: str, codec: AvroCodec, rate: float, count: int
) -> tuple[float, float]:
    """p50 and p99, in ms, from publishing an event to its acceptance receipt, at ``rate``/s."""
    arrivals: dict[str, float] = {}
    done = threading.Event()
    # A short fetch wait: tansu holds a many-partition Fetch for the whole wait
    # (streams.broker.tansu).
    consumer = KafkaConsumer(
        outbound_topic("bawaslu"),
        bootstrap_servers=[bootstrap],
        auto_offset_reset="latest",
        fetch_max_wait_ms=5,
    )
    consumer.poll(timeout_ms=1000)  # join the partitions before the first event goes out

    def collect() -> None:
        while not done.is_set():
            for batch in consumer.poll(timeout_ms=50).values():
                for message in batch:
                    receipt = codec.decode(message.value).record
                    if receipt.get("status") == "ACCEPTED":
                        arrivals[receipt["event_id"]] = time.perf_counter()

    thread = threading.Thread(target=collect)
    thread.start()
    sent: dict[str, float] = {}
    interval = 1.0 / rate
    next_at = time.perf_counter()
    for number in range(count):
        record = report(10_000_000 + number)
        next_at += interval
        time.sleep(max(0.0, next_at - time.perf_counter()))
        sent[record["envelope"]["event_id"]] = time.perf_counter()
        publisher.publish("ReportReceived", record)
        publisher.producer.flush()
    deadline = time.monotonic() + READY_SECONDS
    while len(arrivals) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    done.set()
    thread.join()
    consumer.close()
    latencies = sorted((arrivals[e] - sent[e]) * 1000 for e in sent if e in arrivals)
    return latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99) - 1]


def replay_rate(bootstrap: str, codec: AvroCodec, workdir: Path) -> tuple[float, int]:
    """Entries per second `kawal replay` rebuilds into an empty SQLite store, and how many."""
    store = AuditStore(f"sqlite:///{workdir / 'replayed.db'}")
    store.create_schema()
    try:
        # The registry of the bench hub's home (running_hub): its keys made the entries.
        keys = keyring_of(Settings(home=workdir / "home")).registry
        result = replay([bootstrap], store, codec, keys, progress=False)
    finally:
        store.close()
    return result.per_second, result.read


def wait_until_routed(web_url: str, entries: int) -> None:
    """Wait until the router has handled ``entries`` audit entries (the worker is idle again).

    The throughput run ends when the audit store has every entry; the router may still be
    fanning them out, and latency measured meanwhile would time that backlog.
    """
    deadline = time.monotonic() + READY_SECONDS
    while _routed(web_url) < entries and time.monotonic() < deadline:
        time.sleep(0.1)


def _routed(web_url: str) -> float:
    with urllib.request.urlopen(f"{web_url}/metrics", timeout=5) as response:
        text = response.read().decode()
    for line in text.splitlines():
        if line.startswith('kawal_event_processing_seconds_count{stage="router"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _start(
    command: str, settings: Settings, workdir: Path, extra_env: dict[str, str] | None = None
) -> ChildProcess:
    """``kawal COMMAND`` (worker or sink), once its HTTP port answers."""
    env = dict(os.environ)
    env.update(
        KAWAL_HOME=str(settings.home),
        KAWAL_BROKER_URL=str(settings.broker_url),
        KAWAL_WEB_PORT=str(settings.web_port),
        KAWAL_SINK_PORT=str(settings.sink_port),
        KAWAL_LOG_LEVEL="warning",
    )
    env.update(extra_env or {})
    child = ChildProcess(
        command, [sys.executable, "-m", "streams.cli", command], workdir / f"{command}.log", env=env
    )
    child.start()
    port = settings.web_port if command == "worker" else settings.sink_port
    child.wait_for_port("127.0.0.1", port, READY_SECONDS)
    return child


def _warm_up(publisher: EventPublisher, store: AuditStore, children: list[ChildProcess]) -> None:
    """One event through the whole pipeline, so group join and recovery are not timed."""
    publisher.publish("ReportReceived", report(-1))
    publisher.flush()
    deadline = time.monotonic() + READY_SECONDS
    while store.count() < 1:
        for child in children:
            if not child.alive or time.monotonic() > deadline:
                raise RuntimeError(f"no first event through the hub:\n{child.log_tail()}")
        time.sleep(0.05)


def main() -> None:
    """Run every benchmark and print its figures."""
    codec = AvroCodec(default_catalog())
    records = [report(n) for n in range(EVENTS)]
    encoded = [codec.encode("ReportReceived", record) for record in records]
    print(f"events: {EVENTS}")
    print(f"raw_decode_events_per_second: {raw_decode_rate(codec, encoded):.0f}")
    with (
        tempfile.TemporaryDirectory(prefix="kawal-bench-") as workdir,
        running_hub(codec, Path(workdir)) as (publisher, store, bootstrap, web_url),
    ):
        sender = publisher.keyring.signing_key("bawaslu", datetime.now(UTC))
        hub = hub_sealing_key(publisher.keyring.registry, datetime.now(UTC))
        signed = [
            encode_signed(codec.catalog, codec, sender, "ReportReceived", record, hub)
            for record in records
        ]
        keyed = [(r["envelope"]["case_id"], data) for r, data in zip(records, signed, strict=True)]
        print(f"pipeline_step_events_per_second: {step_rate(keyed, Path(workdir) / 'home'):.0f}")
        outgoing = [
            (record["envelope"]["case_id"], data, cloud_event_headers(record["envelope"]))
            for record, data in zip(records, signed, strict=True)
        ]
        rate, cpu = cpu_split.during(lambda: pipeline_rate(publisher, store, outgoing), EVENTS)
        print(f"pipeline_events_per_second: {rate:.0f}")
        print("\n".join(cpu.lines()))
        wait_until_routed(web_url, store.count())
        p50, p99 = latency_ms(publisher, bootstrap, codec, LATENCY_RATE, LATENCY_EVENTS)
        drained = backlog.run(publisher, store, bootstrap, lambda source, n: report(n, source))
        replayed_rate, replayed = replay_rate(bootstrap, codec, Path(workdir))
    # The same number of new cases through two workers sharing the partitions.
    fresh = [report(50_000_000 + n) for n in range(EVENTS)]
    two = two_workers.rate(codec, running_hub, _start, pipeline_rate, signed_outgoing, fresh)
    print(f"pipeline_events_per_second_two_workers: {two:.0f}")
    print(f"latency_p50_ms_at_200_per_second: {p50:.1f}")
    print(f"latency_p99_ms_at_200_per_second: {p99:.1f}")
    print("\n".join(drained.lines()))
    print(f"replay_entries: {replayed}")
    print(f"replay_events_per_second: {replayed_rate:.0f}")
    # What an open case costs, with the case table in RocksDB (the default) and in RAM.
    for case_store in ("rocksdb", "memory"):
        print("\n".join(case_memory.measure(case_store, codec, running_hub, report).lines()))
    # `kawal up` itself, on durable storage: the shipped registry, then the national one.
    print("\n".join(at_rest.measure(None).lines("shipped_registry.")))
    after_demo = at_rest.measure(None, after_demo=True)
    print("\n".join(after_demo.lines("shipped_registry_after_demo.")))
    print("\n".join(at_rest.measure(NATIONAL_REGISTRY).lines("national_registry.")))
    # The public front page's reads of a national audit store.
    print("\n".join(public_pages.measure(codec).lines()))


if __name__ == "__main__":
    main()
