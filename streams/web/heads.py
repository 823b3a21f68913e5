"""``GET /heads`` and ``GET /heads/consistency``: the signed tree heads over HTTP.

For whoever checks the hub from outside without reading ``kawal.heads`` from Kafka: the heads
the hub signed, oldest first, each as institutions keep it, and the RFC 9162 consistency proof
from a size the reader kept to a later head (:mod:`streams.audit.head_reads`). A head holds a
count of entries, a root hash and the hub's signature, nothing of any case, so every reader
gets them, the public included, as a transparency log's heads are public. A credential sent
must be a good one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import faust
from faust import web

from streams.audit.case_proofs import UnknownHeadError
from streams.audit.head_reads import DEFAULT_HEADS, MOST_HEADS, HeadReader
from streams.audit.store import StoreError
from streams.audit.tree_log import TreeError
from streams.domain.principals import AccessRefusal
from streams.web.auth import Authenticator
from streams.web.problems import problem_response
from streams.web.query import whole_numbers
from streams.web.views import store_unavailable

#: Each query parameter of a page and the least value it takes.
LIST_QUERY = {"after": 0, "limit": 1}
CONSISTENCY_QUERY = {"first": 0, "second": 1}


def register_heads(app: faust.App, reader: HeadReader, auth: Authenticator) -> None:
    """Attach ``GET /heads`` and ``GET /heads/consistency`` to the worker's app."""

    @app.page("/heads")
    class Heads(web.View):
        """The signed tree heads over more than ``after`` leaves, oldest first."""

        async def get(self, request: web.Request) -> web.Response:
            query = await _asked(self, request, auth, LIST_QUERY)
            if not isinstance(query, dict):
                return query
            after, limit = query["after"] or 0, query["limit"] or DEFAULT_HEADS
            if limit > MOST_HEADS:
                detail = f"limit must be at most {MOST_HEADS}, not {limit}; ask page by page"
                return problem_response(self, 400, "bad_query", detail)
            try:
                heads = await asyncio.to_thread(reader.heads, after, limit)
            except TreeError as exc:
                return _damaged(self, exc)
            except StoreError:
                return store_unavailable(self)
            more = heads[-1]["tree_size"] if len(heads) == limit else None
            return self.json({"heads": heads, "next_after": more})

    @app.page("/heads/consistency")
    class HeadConsistency(web.View):
        """The proof that a later signed head extends the first ``first`` leaves."""

        async def get(self, request: web.Request) -> web.Response:
            query = await _asked(self, request, auth, CONSISTENCY_QUERY)
            if not isinstance(query, dict):
                return query
            if query["first"] is None:
                detail = "first is needed: the size of the head you kept, as ?first=SIZE"
                return problem_response(self, 400, "bad_query", detail)
            try:
                found = await asyncio.to_thread(reader.consistency, query["first"], query["second"])
            except UnknownHeadError as exc:
                return problem_response(self, 404, "no_such_head", str(exc))
            except ValueError as exc:
                return problem_response(self, 400, "bad_query", str(exc))
            except TreeError as exc:
                return _damaged(self, exc)
            except StoreError:
                return store_unavailable(self)
            return self.json(found.to_json())


async def _asked(
    view: web.View, request: web.Request, auth: Authenticator, least: Mapping[str, int]
) -> dict[str, int | None] | web.Response:
    """The query's counts, or the answer refusing the request: a bad credential or query."""
    principal = await auth.principal(request)
    if isinstance(principal, AccessRefusal):
        return auth.refuse(view, request, principal)
    query = whole_numbers(request, least, "this page")
    if isinstance(query, str):
        return problem_response(view, 400, "bad_query", query)
    return query


def _damaged(view: web.View, exc: TreeError) -> web.Response:
    """The log is damaged, not down: what is wrong names leaves, cases and seqs."""
    detail = f"the audit store's log cannot prove it: {exc}"
    return problem_response(view, 503, "store_unavailable", detail)
