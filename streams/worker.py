"""``kawal worker``: one Faust worker running every agent and the HTTP views."""

from __future__ import annotations

import asyncio
import logging

import faust
import uvloop

from streams.hub import create_hub
from streams.settings import Settings


class HubWorker(faust.Worker):
    """Faust's worker without its terminal spinner.

    The spinner lowers the root logger to DEBUG so that it turns on every log record; every
    debug call of aiokafka and Faust then builds a record that the handlers drop, which cost
    about a tenth of the worker's CPU under load.
    """

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        """Keep the root logger at the configured level."""
        self.spinner = None
        logger.setLevel(level or logging.INFO)


def run_worker(settings: Settings) -> int:
    """Run until stopped (SIGTERM or Ctrl-C); Faust commits and closes cleanly."""
    settings.worker_dir.mkdir(parents=True, exist_ok=True)
    # libuv's event loop: every record passes through several futures and callbacks, and
    # uvloop runs them at about four fifths of the cost of asyncio's own loop.
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    hub = create_hub(settings)
    worker = HubWorker(hub.app, loglevel=settings.log_level.upper())
    # Faust's Worker exits the process itself when the loop ends.
    worker.execute_from_commandline()
    return 0
