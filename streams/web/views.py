"""HTTP views of the hub processes (Faust's web server): health, metrics, case trails."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, cast

import faust
from faust import web
from faust.tables.manager import TableManager

from monitoring.metrics import HubMetrics
from schemas.catalog import SchemaCatalog
from schemas.codec import AvroCodec
from streams.audit.store import AuditStore, StoreError
from streams.audit.trail import Directory, NotEntitledError, trail_view
from streams.domain.keys import KeyRegistry

#: Prometheus text exposition format 0.0.4.
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4"


@dataclass(frozen=True)
class TrailReader:
    """What a trail view reads: the store, the codec and who is entitled to what."""

    store: AuditStore
    codec: AvroCodec
    catalog: SchemaCatalog
    directory: Directory
    keys: KeyRegistry

    def view(self, case_id: str, viewer: str | None = None) -> dict[str, Any] | None:
        """The verified trail of ``case_id`` as ``viewer`` may see it (None: no such case)."""
        return trail_view(
            self.store, self.codec, self.catalog, case_id, viewer, self.directory, self.keys
        )


def register_trails(app: faust.App, reader: TrailReader) -> None:
    """Attach ``GET /cases/{case_id}/trail`` to the worker's app."""

    @app.page("/cases/{case_id}/trail")
    class Trail(web.View):
        """A case's trail, verified; ``?as=INSTITUTION`` for the view it is entitled to."""

        async def get(self, request: web.Request, case_id: str) -> web.Response:
            viewer = request.query.get("as")
            try:
                view = await asyncio.to_thread(reader.view, case_id, viewer)
            except NotEntitledError as exc:
                return self.json({"error": str(exc)}, status=403)
            if view is None:
                return self.json({"error": f"no case {case_id} in the audit store"}, status=404)
            return self.json(view)


def register_health(app: faust.App, store: AuditStore, metrics: HubMetrics) -> None:
    """Attach ``/health`` and ``/metrics``, which every hub process serves."""

    @app.page("/health")
    class Health(web.View):
        """Readiness: partitions assigned, tables recovered, audit store answering."""

        async def get(self, request: web.Request) -> web.Response:
            recovery = cast(TableManager, app.tables).recovery
            if app.rebalancing or not recovery.completed.is_set():
                return self.json({"status": "starting"}, status=503)
            try:
                entries = await asyncio.to_thread(store.count)
            except StoreError:
                return self.json({"status": "degraded", "audit_store": "unreachable"}, status=503)
            return self.json({"status": "ok", "audit_entries": entries})

    @app.page("/metrics")
    class Metrics(web.View):
        """Prometheus exposition of the hub's metrics."""

        async def get(self, request: web.Request) -> web.Response:
            # aiohttp refuses a charset inside content_type; the exposition is ASCII anyway.
            return self.bytes(metrics.exposition(), content_type=PROMETHEUS_CONTENT_TYPE)
