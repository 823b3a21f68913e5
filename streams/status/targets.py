"""Where the processes of a home serve: what ``kawal up`` wrote, else the settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from streams.home_locks import holders
from streams.local.up_state import read_state
from streams.settings import Settings


@dataclass(frozen=True)
class Targets:
    """The addresses ``kawal status`` asks, and who holds a lock on the home.

    Attributes:
        home: The ``KAWAL_HOME`` asked about, absolute.
        holders: The pid holding each lock on the home: ``up``, ``worker``, ``sink``.
        source: ``kawal up`` when its state file gave the addresses, else ``settings``.
        worker: Base URL of the worker's HTTP server.
        sink: Base URL of the audit sink's.
        broker: The broker's URL.
        connectors: Base URL of the demo connectors of ``kawal up --demo``, when they run.
        prometheus: Base URL of the Prometheus of ``kawal up --monitoring``, when it runs.
    """

    home: Path
    holders: dict[str, str]
    source: str
    worker: str
    sink: str
    broker: str
    connectors: str | None = None
    prometheus: str | None = None


def find_targets(settings: Settings) -> Targets:
    """Where the hub of ``settings`` serves.

    A running ``kawal up`` wrote its addresses to its home, and they win: the operator's shell
    may not have the ports it was started with. Otherwise (a worker and a sink run on their
    own, or ``kawal up`` is still starting) the settings say where.
    """
    home = settings.home.resolve()
    held = holders(home)
    state = read_state(home)
    if state is not None and held.get("up") == str(state.pid):
        return Targets(
            home,
            held,
            "kawal up",
            state.worker,
            state.sink,
            state.broker,
            state.connectors,
            state.prometheus,
        )
    base = f"{settings.web_scheme}://{settings.web_host}"
    return Targets(
        home,
        held,
        "settings",
        f"{base}:{settings.web_port}",
        f"{base}:{settings.sink_port}",
        settings.effective_broker_url,
    )
