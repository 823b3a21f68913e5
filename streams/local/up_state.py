"""Where ``kawal up`` serves, written to ``KAWAL_HOME/up.json`` while it runs.

``kawal status`` reads it to find the processes of a running ``kawal up`` at the ports it was
given, although the shell that asks may not have the settings ``kawal up`` was started with.
It is believed only while ``kawal up``'s lock on the home is held by the pid it names: a file
left by a ``kill -9`` names a pid that holds nothing.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from streams.broker.endpoint import without_credentials
from streams.private_files import open_private
from streams.settings import Settings

STATE_FILE = "up.json"


@dataclass(frozen=True)
class UpState:
    """The addresses of a running ``kawal up``'s processes.

    Attributes:
        pid: The pid of ``kawal up``.
        worker: Base URL of the worker's HTTP server (``/readyz``, ``/metrics``).
        sink: Base URL of the audit sink's.
        broker: The broker's URL, without any credentials.
        connectors: Base URL of the demo connectors' probes and metrics, when they run.
        prometheus: Base URL of the Prometheus of ``--monitoring``, when it runs.
    """

    pid: int
    worker: str
    sink: str
    broker: str
    connectors: str | None = None
    prometheus: str | None = None


def state_of(
    settings: Settings, broker_url: str, *, connectors: bool, prometheus: str | None
) -> UpState:
    """The state of this ``kawal up``: its pid and the addresses its settings give."""
    base = f"{settings.web_scheme}://{settings.web_host}"
    return UpState(
        pid=os.getpid(),
        worker=f"{base}:{settings.web_port}",
        sink=f"{base}:{settings.sink_port}",
        broker=without_credentials(broker_url),
        connectors=f"http://{settings.web_host}:{settings.connector_metrics_port}"
        if connectors and settings.connector_metrics_port
        else None,
        prometheus=prometheus,
    )


def write_state(home: Path, state: UpState) -> None:
    """Write ``state`` to ``home`` (mode 0600), replacing what an earlier run left."""
    path = home / STATE_FILE
    path.unlink(missing_ok=True)
    with os.fdopen(open_private(path, os.O_WRONLY | os.O_TRUNC), "w") as handle:
        json.dump(asdict(state), handle)


def read_state(home: Path) -> UpState | None:
    """What ``kawal up`` wrote to ``home``, or None when nothing readable is there."""
    try:
        text = (home / STATE_FILE).read_text(encoding="utf-8")
        return TypeAdapter(UpState).validate_json(text)
    except (OSError, ValidationError):
        return None


def remove_state(home: Path) -> None:
    """Remove the state file of ``home``, if any (``kawal up`` stops)."""
    (home / STATE_FILE).unlink(missing_ok=True)
