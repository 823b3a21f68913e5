"""``kawal worker``: one Faust worker running every agent and the HTTP views."""

from __future__ import annotations

import faust

from streams.hub import create_hub
from streams.settings import Settings


def run_worker(settings: Settings) -> int:
    """Run until stopped (SIGTERM or Ctrl-C); Faust commits and closes cleanly."""
    settings.worker_dir.mkdir(parents=True, exist_ok=True)
    hub = create_hub(settings)
    worker = faust.Worker(hub.app, loglevel=settings.log_level.upper())
    # Faust's Worker exits the process itself when the loop ends.
    worker.execute_from_commandline()
    return 0
