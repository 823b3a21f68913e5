"""The reporting portal run against the real hub: its two connectors in threads, real S3."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.host import build, run_connector
from connectors.lapor.connector import LaporIntake
from connectors.lapor.evidence import S3Location
from streams.domain.entries import EntryProblem, check_entry
from streams.local.processes import free_port
from streams.topics import outbound_topic
from tests.hubtools import RunningHub

SECRET = "lapor-hub-test-secret-of-32-characters-or-more"


@dataclass
class RunningPortal:
    """The portal's address and folder."""

    port: int
    spool_dir: Path

    @property
    def base_url(self) -> str:
        """Where the portal answers."""
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def running_portal(hub: RunningHub, location: S3Location, home: Path) -> Iterator[RunningPortal]:
    """``lapor-intake`` and ``lapor-status`` of ``bawaslu.33`` running against ``hub``."""
    portal = RunningPortal(free_port(), home / "lapor")
    intake = build(
        "lapor-intake",
        {
            "institution": "bawaslu.33",
            "listen_port": portal.port,
            "spool_dir": str(portal.spool_dir),
            "secret": SECRET,
            "s3_endpoint": location.endpoint,
            "s3_bucket": location.bucket,
            "s3_access_key": location.access_key,
            "s3_secret_key": location.secret_key,
            "poll_seconds": 0.2,
        },
    )
    assert isinstance(intake, LaporIntake)
    status = build(
        "lapor-status", {"institution": "bawaslu.33", "spool_dir": str(portal.spool_dir)}
    )
    stop = threading.Event()
    keyring = hub.publisher.keyring
    threads = [
        threading.Thread(
            target=run_connector,
            args=(connector, hub.bootstrap, home, stop),
            kwargs={"keyring": keyring},
            daemon=True,
        )
        for connector in (intake, status)
    ]
    for thread in threads:
        thread.start()
    try:
        yield portal
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)


def feed_event(hub: RunningHub, institution: str, case_id: str, event_type: str) -> dict[str, Any]:
    """The event of ``case_id`` in ``institution``'s feed, as its connector believes it."""
    entries = hub.read(
        outbound_topic(institution),
        lambda r: "key_id" in r and r["case_id"] == case_id and r["event_type"] == event_type,
    )
    entry = entries[0]  # the hub delivers at least once: a repeat is the same entry
    assert all(other["hash"] == entry["hash"] for other in entries)
    opened = hub.opened(institution, entry)
    event = check_entry(hub.codec, hub.publisher.keyring.registry, entry, opened)
    assert not isinstance(event, EntryProblem), event
    return event
