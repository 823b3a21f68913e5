"""Throughput with two workers: the case partitions shared by two ``kawal worker`` processes.

Both workers and the sink share the vault and the audit store on PostgreSQL (a throwaway
server, as the tests start one), as workers on two machines would; here they share the
machine's two cores with the broker and the sink.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import at_rest
from schemas.codec import AvroCodec
from streams.local.processes import ChildProcess, free_port
from streams.settings import Settings
from tests.postgres import PostgresServer

READY_SECONDS = 120.0


def rate(
    codec: AvroCodec,
    running_hub: Callable[..., Any],
    start: Callable[..., ChildProcess],
    pipeline_rate: Callable[..., float],
    sign: Callable[..., list[tuple[str, bytes, list[tuple[str, bytes]]]]],
    records: list[dict[str, Any]],
) -> float:
    """Events per second through a hub with two workers (see ``bench.__main__``'s helpers)."""
    server = PostgresServer()
    server.start()
    try:
        env = {
            "KAWAL_AUDIT_DB_URL": server.create_database("bench_audit"),
            "KAWAL_VAULT_URL": server.create_database("bench_vault"),
        }
        with (
            tempfile.TemporaryDirectory(prefix="kawal-bench-two-") as tmp,
            running_hub(codec, Path(tmp), env) as (publisher, store, bootstrap, _url),
        ):
            second_home = Path(tmp) / "second" / "home"
            shutil.copytree(Path(tmp) / "home" / "keys", second_home / "keys")
            settings = Settings(
                home=second_home,
                broker_url=f"tansu://{bootstrap}",
                web_port=free_port(),
                sink_port=free_port(),
            )
            second = start("worker", settings, second_home.parent, env)
            try:
                _wait_ready(f"http://127.0.0.1:{settings.web_port}/health")
                return pipeline_rate(publisher, store, sign(publisher, records))
            finally:
                second.stop(20)
    finally:
        server.stop()


def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while not at_rest.healthy(url):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the second worker was not ready within {READY_SECONDS:.0f} s")
        time.sleep(0.2)
