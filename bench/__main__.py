"""``make bench``: throughput of the hub on this machine, printed as ``name: value`` lines.

Figures are only comparable within one run (shared, noisy machines): compare
``pipeline_events_per_second`` with ``raw_decode_events_per_second`` of the same run.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from schemas.identity import case_id_for
from streams.embedded import EmbeddedBroker
from streams.institutions import load_institutions
from streams.processes import ChildProcess, free_port
from streams.provision import provision_topics
from streams.publisher import EventPublisher
from streams.settings import Settings
from streams.store import AuditStore
from streams.topics import all_topics

EVENTS = int(os.environ.get("KAWAL_BENCH_EVENTS", "5000"))
READY_SECONDS = 60.0


def report(number: int) -> dict[str, Any]:
    """A ReportReceived of a new case."""
    case_number = f"BENCH/{number}/{uuid.uuid4().hex[:8]}"
    return {
        "envelope": {
            "event_id": str(uuid.uuid4()),
            "case_id": case_id_for("bawaslu", case_number),
            "event_type": "ReportReceived",
            "event_time": datetime.now(UTC),
            "ingest_time": None,
            "source": "bawaslu",
            "actor_ref": "actor:bench",
            "traceparent": None,
            "signature": None,
        },
        "case_number": case_number,
        "election": "pilkada-2024",
        "region_code": "33",
        "employing_agency": "ppk.3374",
        "violation": "ETHICS_BANNER",
        "discovered_on": date(2024, 11, 1),
        "summary": "Benchmark report.",
        "subject_nip": "199001012015031001",
        "subject_name": "Bench Subject",
        "reporter_ref": "reporter:bench",
        "reporter_identity": None,
    }


def raw_decode_rate(codec: AvroCodec, encoded: list[bytes]) -> float:
    """Events per second fastavro decodes through the codec, nothing else."""
    started = time.perf_counter()
    for data in encoded:
        codec.decode(data)
    return len(encoded) / (time.perf_counter() - started)


def pipeline_rate(codec: AvroCodec, records: list[dict[str, Any]], workdir: Path) -> float:
    """Events per second from first publish to the last row in the audit store."""
    broker = EmbeddedBroker.ephemeral(workdir / "logs", port=free_port())
    broker.start()
    worker: ChildProcess | None = None
    try:
        settings = Settings(home=workdir / "home", broker_url=broker.url)
        provision_topics(
            [broker.bootstrap_servers], all_topics(load_institutions(), settings.partitions)
        )
        worker = _start_worker(settings, workdir)
        store = AuditStore(settings.audit_url)
        publisher = EventPublisher([broker.bootstrap_servers], codec)
        _warm_up(publisher, store, worker)
        started = time.perf_counter()
        for record in records:
            publisher.publish("ReportReceived", record)
        publisher.close()
        while store.count() < len(records) + 1:
            if not worker.alive:
                raise RuntimeError(worker.log_tail())
            time.sleep(0.05)
        return len(records) / (time.perf_counter() - started)
    finally:
        if worker is not None:
            worker.stop(20)
        broker.stop()


def _start_worker(settings: Settings, workdir: Path) -> ChildProcess:
    web_port = free_port()
    env = dict(os.environ)
    env.update(
        KAWAL_HOME=str(settings.home),
        KAWAL_BROKER_URL=str(settings.broker_url),
        KAWAL_WEB_PORT=str(web_port),
        KAWAL_LOG_LEVEL="warning",
    )
    worker = ChildProcess(
        "worker", [sys.executable, "-m", "streams.cli", "worker"], workdir / "worker.log", env=env
    )
    worker.start()
    worker.wait_for_port("127.0.0.1", web_port, READY_SECONDS)
    return worker


def _warm_up(publisher: EventPublisher, store: AuditStore, worker: ChildProcess) -> None:
    """One event through the whole pipeline, so group join and recovery are not timed."""
    publisher.publish("ReportReceived", report(-1))
    publisher.flush()
    deadline = time.monotonic() + READY_SECONDS
    while store.count() < 1:
        if not worker.alive or time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not process a first event:\n{worker.log_tail()}")
        time.sleep(0.05)


def main() -> None:
    """Run every benchmark and print its figures."""
    codec = AvroCodec(default_catalog())
    records = [report(n) for n in range(EVENTS)]
    encoded = [codec.encode("ReportReceived", record) for record in records]
    print(f"events: {EVENTS}")
    print(f"raw_decode_events_per_second: {raw_decode_rate(codec, encoded):.0f}")
    with tempfile.TemporaryDirectory(prefix="kawal-bench-") as workdir:
        rate = pipeline_rate(codec, records, Path(workdir))
    print(f"pipeline_events_per_second: {rate:.0f}")


if __name__ == "__main__":
    main()
