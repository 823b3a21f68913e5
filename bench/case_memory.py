"""What an open case costs the worker: RAM and disk per case, with the table in RocksDB or RAM.

Runs a worker and the sink with ``KAWAL_CASE_STORE`` set, reports :data:`CASES` new cases
through them, and compares the worker's resident memory (and its table's bytes on disk) before
and after. Each case is one report: an open case the hub must remember. Then it waits for the
worker's next case census (``streams.hub.case_census``) and prints its duration, with the
longest ``/livez`` answer meanwhile: how long a look at every case holds the event loop.
"""

from __future__ import annotations

import os
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench import cpu_split
from schemas.codec import AvroCodec
from streams.domain.hub_sealing import hub_sealing_key
from streams.domain.signed_events import encode_signed
from streams.headers import cloud_event_headers

CASES = int(os.environ.get("KAWAL_BENCH_CASES", "100000"))
DRAIN_LIMIT_SECONDS = 1800.0


@dataclass(frozen=True)
class CaseMemory:
    """RAM and disk the worker used per open case."""

    store: str
    cases: int
    rss_bytes_per_case: float
    disk_bytes_per_case: float
    worker_rss_mib: float
    #: How long the worker's look at every case took, and the longest /livez answer meanwhile.
    census_seconds: float
    livez_max_ms: float

    def lines(self) -> list[str]:
        """``name: value`` lines of the figures."""
        prefix = f"case_store_{self.store}."
        return [
            f"{prefix}open_cases: {self.cases}",
            f"{prefix}bytes_per_open_case: {self.rss_bytes_per_case:.0f}",
            f"{prefix}disk_bytes_per_open_case: {self.disk_bytes_per_case:.0f}",
            f"{prefix}worker_rss_mib: {self.worker_rss_mib:.0f}",
            f"{prefix}census_seconds: {self.census_seconds:.2f}",
            f"{prefix}livez_max_ms_during_census: {self.livez_max_ms:.0f}",
        ]


def measure(
    store: str,
    codec: AvroCodec,
    running_hub: Callable[..., Any],
    report: Callable[[int, str], dict[str, Any]],
) -> CaseMemory:
    """Report :data:`CASES` cases through a hub whose case table is in ``store``."""
    with tempfile.TemporaryDirectory(prefix="kawal-bench-cases-") as tmp:
        workdir = Path(tmp)
        env = {"KAWAL_CASE_STORE": store}
        with running_hub(codec, workdir, env) as (publisher, audit, _bootstrap, url):
            worker = _worker_process()
            signed = _signed(publisher, codec, report)
            before = worker.memory_info().rss
            target = audit.count() + len(signed)
            for case_id, value, headers in signed:
                publisher.send_raw("bawaslu", case_id, value, headers)
            publisher.flush()
            deadline = time.monotonic() + DRAIN_LIMIT_SECONDS
            while audit.count() < target:
                if time.monotonic() > deadline:
                    raise RuntimeError("the cases did not get through in time")
                time.sleep(0.5)
            time.sleep(2)  # the last batch's table writes
            after = worker.memory_info().rss
            disk = _bytes_under(workdir / "home" / "worker")
            census, livez = _census(url, time.time())
    return CaseMemory(
        store,
        len(signed),
        (after - before) / len(signed),
        disk / len(signed),
        after / 2**20,
        census,
        livez,
    )


def _census(url: str, since: float) -> tuple[float, float]:
    """The duration of the first case census begun after ``since`` (Unix seconds), and the
    longest ``/livez`` answer while waiting for it: how long the census held the event loop.
    """
    longest = 0.0
    deadline = time.monotonic() + DRAIN_LIMIT_SECONDS
    while time.monotonic() < deadline:
        started = time.perf_counter()
        with urllib.request.urlopen(f"{url}/livez", timeout=60) as response:
            response.read()
        longest = max(longest, time.perf_counter() - started)
        figures = _census_figures(url)
        if figures is not None and figures[0] > since:
            return figures[1], longest * 1000
        time.sleep(0.02)
    raise RuntimeError("no case census in time")


def _census_figures(url: str) -> tuple[float, float] | None:
    with urllib.request.urlopen(f"{url}/metrics", timeout=60) as response:
        text = response.read().decode()
    found = {
        name: float(line.split()[1])
        for line in text.splitlines()
        for name in ("kawal_case_census_timestamp_seconds", "kawal_case_census_duration_seconds")
        if line.startswith(name + " ")
    }
    if len(found) < 2:
        return None
    return found["kawal_case_census_timestamp_seconds"], found["kawal_case_census_duration_seconds"]


def _signed(
    publisher: Any, codec: AvroCodec, report: Callable[[int, str], dict[str, Any]]
) -> list[tuple[str, bytes, list[tuple[str, bytes]]]]:
    now = datetime.now(UTC)
    key = publisher.keyring.signing_key("bawaslu", now)
    hub = hub_sealing_key(publisher.keyring.registry, now)
    out = []
    for number in range(CASES):
        record = report(40_000_000 + number, "bawaslu")
        value = encode_signed(codec.catalog, codec, key, "ReportReceived", record, hub)
        out.append((record["envelope"]["case_id"], value, cloud_event_headers(record["envelope"])))
    return out


def _worker_process() -> psutil.Process:
    for child in psutil.Process().children(recursive=True):
        if cpu_split.role_of(child) == "worker":
            return child
    raise RuntimeError("no worker process among the bench's children")


def _bytes_under(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
