"""Requests the HTTP server cannot parse, answered by the server's owner rather than by aiohttp.

aiohttp answers a request it cannot parse (a request line that is not HTTP, a header too long
or holding a control byte, a ``Content-Length`` that is no number) itself, before any route or
middleware sees it: ``HTTP/1.0 400`` in plain text quoting the offending bytes (a long
``Authorization`` header's first hundred or so: a bearer credential's), and without the headers
an application sets on its answers, since ``on_response_prepare`` runs for routed requests only.
:class:`AnsweringRunner` serves an application whose connections answer such a request with
what its owner builds instead: for the worker and the sink :func:`malformed_problem`, an RFC 9457
problem (``malformed_request``) with :data:`streams.web.response_headers.HEADERS`; the reporting
portal its own refusal. Nothing of the request is quoted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_server import Server

from streams.web.problems import PROBLEM_CONTENT_TYPE, problem
from streams.web.response_headers import HEADERS

#: Builds the answer to a request that could not be parsed, given its status (400).
MalformedAnswer = Callable[[int], web.Response]

#: What a client that sent an unparseable request is told; it quotes nothing of the request.
MALFORMED_DETAIL = (
    "the request could not be read as HTTP/1.1: its request line, a header or its length is "
    "malformed or too long (a header holds at most 8190 bytes); send a well-formed request"
)


def malformed_problem(status: int) -> web.Response:
    """The worker's and the sink's answer to a request they cannot parse."""
    body = json.dumps(problem(status, "malformed_request", MALFORMED_DETAIL)).encode()
    return web.Response(
        body=body, status=status, content_type=PROBLEM_CONTENT_TYPE, headers=HEADERS
    )


class AnsweringRunner(web.AppRunner):
    """An :class:`aiohttp.web.AppRunner` whose connections answer unparseable requests.

    Args:
        app: The application served.
        answer: Builds the answer to a request that could not be parsed.
        **kwargs: The runner's server options (``access_log``, ``keepalive_timeout``, ...).
    """

    __slots__ = ("_answer",)

    def __init__(self, app: web.Application, answer: MalformedAnswer, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._answer = answer

    async def _make_server(self) -> Server:
        # aiohttp has no option for its connections' class: its server, built as ever, is
        # rebuilt to make them (aiohttp 3.x; tests/web/test_malformed_answers.py checks it).
        made = await super()._make_server()
        return _AnsweringServer(made, self._answer)


class _AnsweringServer(Server):
    """aiohttp's server of ``made``, each of its connections an :class:`_AnsweringHandler`."""

    def __init__(self, made: Server, answer: MalformedAnswer) -> None:
        super().__init__(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            loop=made._loop,
            **made._kwargs,
        )
        self.answer = answer

    def __call__(self) -> RequestHandler:
        return _AnsweringHandler(self, loop=self._loop, **self._kwargs)


class _AnsweringHandler(RequestHandler):
    """A connection whose answer to an unparseable request is its server's ``answer``."""

    __slots__ = ("_answer",)

    def __init__(self, manager: _AnsweringServer, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._answer = manager.answer

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """Aiohttp's answer, but a parser's 400 in the owner's words, quoting nothing sent."""
        # aiohttp's own logs it (demoted and counted by :mod:`streams.logs`) and refuses to
        # answer on a connection that has begun an answer already.
        answered = super().handle_error(request, status, exc, message)
        if status != HTTPStatus.BAD_REQUEST or not isinstance(exc, HttpProcessingError):
            return answered
        answer = self._answer(status)
        answer.force_close()  # what follows the bad bytes cannot be told from a request
        return answer
