"""The portal served from its own thread and event loop (the connector's own loop is sync).

The runtime hosts one ``lapor-intake`` at a time, but a process may briefly hold two instances
(a restart that builds the new one first, the contract tests): like the Bawaslu webhook's
listener, instances configured for one address share its server, which stops when the last
of them is closed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import ClassVar

from aiohttp import web

from connectors.errors import ConnectorError
from connectors.lapor.web import Portal, PortalSettings, malformed
from streams.web.malformed import AnsweringRunner

log = logging.getLogger(__name__)


class PortalListenError(ConnectorError):
    """The portal cannot listen where it is configured to."""


class PortalServer:
    """One portal listening on one address."""

    _active: ClassVar[dict[tuple[str, int], PortalServer]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self._users = 0
        self._loop = asyncio.new_event_loop()
        # aiohttp's default idle time is an hour: slow clients would hold thousands of connections.
        idle = portal.settings.idle_seconds
        # A request it cannot parse is refused as the portal refuses, not in aiohttp's words.
        self._runner = AnsweringRunner(
            portal.app(), malformed, access_log=None, keepalive_timeout=idle
        )
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="lapor-portal", daemon=True)

    @classmethod
    def acquire(cls, settings: PortalSettings, make: Callable[[], Portal]) -> PortalServer:
        """The running server of ``settings``' address, started with ``make()`` if needed.

        Raises:
            PortalListenError: the address is taken, or serves another configuration.
        """
        key = (settings.host, settings.port)
        with cls._guard:
            server = cls._active.get(key)
            if server is None:
                server = cls(make())
                try:
                    server._start()
                except OSError as exc:
                    server.portal.close()
                    raise PortalListenError(
                        f"the reporting portal cannot listen on {settings.host}:{settings.port} "
                        f"({exc.strerror or exc}); free the port or change listen_port"
                    ) from exc
                cls._active[key] = server
            elif server.portal.settings != settings:
                raise PortalListenError(
                    f"{settings.host}:{settings.port} already serves another reporting portal; "
                    "give each lapor-intake its own listen_port"
                )
            server._users += 1
            return server

    def release(self) -> None:
        """Stop using the server; the last user stops it."""
        settings = self.portal.settings
        with self._guard:
            self._users -= 1
            if self._users > 0:
                return
            del self._active[(settings.host, settings.port)]
        self.portal.closing = True  # open streams end within a poll
        stopped = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
        try:
            stopped.result(timeout=30)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self.portal.close()
        log.info("lapor portal on %s:%d stopped", settings.host, settings.port)

    def _start(self) -> None:
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            raise self._failure

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        settings = self.portal.settings
        try:
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, settings.host, settings.port)
            self._loop.run_until_complete(site.start())
        except BaseException as exc:
            self._failure = exc
            self._ready.set()
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()
            return
        self._ready.set()
        log.info("lapor portal listening on %s:%d", settings.host, settings.port)
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()
