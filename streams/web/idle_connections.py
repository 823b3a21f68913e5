"""Connections that send no request are closed after ``KAWAL_HTTP_IDLE_SECONDS``.

Faust's web server keeps aiohttp's default, an hour for a connection to finish its request's
headers (or to idle between two): clients that send half a request and stop can hold that
many open connections, each a file descriptor the process also needs for its broker and
store. A request whose headers have arrived is not cut short; a probe or a browser simply
opens a new connection after a pause.
"""

from __future__ import annotations

from typing import cast

import faust
from faust.web.drivers.aiohttp import Web

from streams.web.malformed import AnsweringRunner, malformed_problem


def close_idle(app: faust.App, idle_seconds: float) -> faust.App:
    """``app``, its web server closing connections idle for ``idle_seconds``.

    Its connections also answer a request they cannot parse as the hub answers its errors
    (:mod:`streams.web.malformed`): both are options of the one runner Faust's driver holds.
    """
    driver = cast(Web, app.web)
    # Faust builds its runner without server options: build it again, as Faust does, with one.
    driver._runner = AnsweringRunner(
        driver.web_app, malformed_problem, access_log=None, keepalive_timeout=idle_seconds
    )
    return app
