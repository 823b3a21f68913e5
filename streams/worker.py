"""``kawal worker`` and ``kawal sink``: a Faust worker running the agents of one role."""

from __future__ import annotations

import asyncio
import gc
import logging

import faust
import uvloop

from streams import logs
from streams.app import Role, create, data_dir
from streams.broker.preflight import require_hub_topics
from streams.home_locks import role_lock
from streams.private_files import private_dir
from streams.settings import Settings

#: Seconds the event loop runs on once the worker has stopped (mode's own: 1 s).
SHUTDOWN_GRACE_SECONDS = 0.1


class HubWorker(faust.Worker):
    """Faust's worker without its terminal spinner.

    The spinner lowers the root logger to DEBUG so that it turns on every log record; every
    debug call of aiokafka and Faust then builds a record that the handlers drop, which cost
    about a tenth of the worker's CPU under load.
    """

    #: ``text`` or ``json`` (:mod:`streams.logs`).
    log_format = "text"

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        """Keep the root logger at the configured level, in the configured format."""
        self.spinner = None
        logger.setLevel(level or logging.INFO)
        logs.quiet_client_chatter(logger.level)
        logs.quiet_malformed_requests()
        logs.use_format(logger, self.log_format)

    def _setproctitle(self, info: str, *, ident: str = "") -> None:
        """Keep the process title ``kawal`` gave (command and home: streams.process_title).

        Faust would replace it by ``[Faust:Worker] -init- ...`` at each state, which names
        neither the role nor the home, and a port's holder could no longer be named.
        """

    async def _sentinel_task(self) -> None:
        """Let the callbacks still scheduled run before the event loop closes.

        mode waits a whole second here, after every service has stopped and the offsets are
        committed; every graceful stop and every restart (``kawal up`` after a failure, a
        rolling update) waited for it.
        """
        await asyncio.sleep(SHUTDOWN_GRACE_SECONDS)


#: Allocations between two collections of the youngest generation (Python's default: 700).
GC_YOUNG_THRESHOLD = 20_000


def tune_garbage_collector() -> None:
    """Spare the worker most of the cyclic garbage collector's passes.

    Every event allocates a few hundred short-lived objects, which reference counting frees;
    at Python's default threshold the collector ran every few events, took about a tenth of
    the worker's time, and its full passes over the heap held events up for 100 ms and more.
    What exists once the app is built (modules, Faust's services) lives as long as the
    process, so it is frozen out of every pass.
    """
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def run_worker(settings: Settings, role: Role = Role.WORKER) -> int:
    """Run ``role`` until stopped (SIGTERM or Ctrl-C); Faust commits and closes cleanly.

    Raises:
        AlreadyRunningError: ``kawal up``, or another process of ``role``, runs on the home;
            refused before a table is opened or the group joined, so the running one goes on
            undisturbed.
    """
    with role_lock(settings.home, role.value):
        return _run(settings, role)


def _run(settings: Settings, role: Role) -> int:
    # libuv's event loop: every record passes through several futures and callbacks, and
    # uvloop runs them at about four fifths of the cost of asyncio's own loop.
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    private_dir(data_dir(settings, role))  # Faust's tables hold the cases' state
    app = create(settings, role)
    require_hub_topics(settings, role.value)
    tune_garbage_collector()
    # JSON lines only: Faust's startup banner is text for people.
    json_logs = settings.log_format == "json"
    worker = HubWorker(app, loglevel=settings.log_level.upper(), quiet=json_logs)
    worker.log_format = settings.log_format
    # Faust's Worker exits the process itself when the loop ends.
    worker.execute_from_commandline()
    return 0
