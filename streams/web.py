"""HTTP views of the hub processes (Faust's web server): health, metrics, case trails."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

from faust import web
from faust.tables.manager import TableManager

from streams.store import StoreError
from streams.trail import Directory, NotEntitledError, trail_view

if TYPE_CHECKING:
    from streams.hub import Hub

#: Prometheus text exposition format 0.0.4.
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4"


def register(hub: Hub) -> None:
    """Attach the worker's views to its app: health, metrics and case trails."""
    register_health(hub)

    @hub.app.page("/cases/{case_id}/trail")
    class Trail(web.View):
        """A case's trail, verified; ``?as=INSTITUTION`` for the view it is entitled to."""

        async def get(self, request: web.Request, case_id: str) -> web.Response:
            viewer = request.query.get("as")
            directory = Directory(hub.institutions, hub.authority_map)
            try:
                view: dict[str, Any] | None = await asyncio.to_thread(
                    trail_view, hub.store, hub.codec, hub.catalog, case_id, viewer, directory
                )
            except NotEntitledError as exc:
                return self.json({"error": str(exc)}, status=403)
            if view is None:
                return self.json({"error": f"no case {case_id} in the audit store"}, status=404)
            return self.json(view)


def register_health(hub: Hub) -> None:
    """Attach ``/health`` and ``/metrics``, which every hub process serves."""
    app = hub.app

    @app.page("/health")
    class Health(web.View):
        """Readiness: partitions assigned, tables recovered, audit store answering."""

        async def get(self, request: web.Request) -> web.Response:
            recovery = cast(TableManager, app.tables).recovery
            if app.rebalancing or not recovery.completed.is_set():
                return self.json({"status": "starting"}, status=503)
            try:
                entries = await asyncio.to_thread(hub.store.count)
            except StoreError:
                return self.json({"status": "degraded", "audit_store": "unreachable"}, status=503)
            return self.json({"status": "ok", "audit_entries": entries})

    @app.page("/metrics")
    class Metrics(web.View):
        """Prometheus exposition of the hub's metrics."""

        async def get(self, request: web.Request) -> web.Response:
            # aiohttp refuses a charset inside content_type; the exposition is ASCII anyway.
            return self.bytes(hub.metrics.exposition(), content_type=PROMETHEUS_CONTENT_TYPE)
