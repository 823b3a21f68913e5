"""HTTP views of the hub processes (Faust's web server): health, metrics, case trails.

``GET /cases/{case_id}/trail`` shows the view of the request's principal (:mod:`streams.web.auth`):
an institution party to the case gets the values the disclosure policy lets its roles see
(:mod:`streams.domain.disclosure_policy`), an operator and the public get every personal-data
field withheld. A response that shows a personal-data value is recorded in the access log
before it is sent. ``/health`` and ``/metrics`` carry no case data and take no credential, so
probes and scrapers need none.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, cast

import faust
from faust import web
from faust.tables.manager import TableManager

from monitoring.metrics import HubMetrics, Where
from schemas.catalog import SchemaCatalog
from schemas.codec import AvroCodec
from schemas.identity import canonical_case_id
from streams.audit.access_log import AccessLog, cases_party_to, shown_personal_fields
from streams.audit.store import AuditStore, StoreError
from streams.audit.store_errors import AccessLogError
from streams.audit.trail import Directory, NotEntitledError, trail_view
from streams.domain.disclosure_policy import DisclosurePolicy
from streams.domain.hub_signer import HubSigner
from streams.domain.keys import KeyRegistry
from streams.domain.principals import AccessProblem, AccessRefusal, Principal
from streams.hub import hub_key_check
from streams.hub.broker_check import BrokerCheck
from streams.hub.store_check import ANSWER_SECONDS, StoreCheck, register_store_check
from streams.vault.data_keys import VaultError
from streams.vault.entries import CaseKeys
from streams.web.auth import Authenticator
from streams.web.case_audience import not_its_case, refusal_without_credential, told_unknown
from streams.web.problems import problem_response

#: Prometheus text exposition format 0.0.4.
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4"


@dataclass(frozen=True)
class TrailReader:
    """What a trail view reads: the store, the codec, who may see what, the access log."""

    store: AuditStore
    codec: AvroCodec
    catalog: SchemaCatalog
    policy: DisclosurePolicy
    directory: Directory
    access_log: AccessLog
    keys: KeyRegistry
    #: The cases' data keys, which open the disclosures a viewer may see; without them only
    #: entries stored before sealing (disclosures in clear) show any.
    case_keys: CaseKeys | None = None
    #: Count the trails that do not verify; None counts nothing.
    metrics: HubMetrics | None = None

    def view(self, case_id: str, viewer: str | None = None) -> dict[str, Any] | None:
        """The verified trail of ``case_id`` as ``viewer`` may see it (None: no such case)."""
        view = trail_view(
            self.store,
            self.codec,
            self.catalog,
            self.policy,
            case_id,
            viewer,
            self.directory,
            self.keys,
            self.case_keys,
        )
        if view is not None and not view["verified"] and self.metrics is not None:
            self.metrics.chain_failure(Where.TRAIL_VIEW)
        return view

    def party_to(self, case_id: str, institution: str) -> bool:
        """Whether ``institution`` is party to ``case_id``, as its trail view decides."""
        found = cases_party_to(institution, [case_id], self.store, self.codec, self.directory)
        return bool(found)

    def refusal(
        self, case_id: str, reader: Principal | None, public_cases: bool
    ) -> AccessRefusal | None:
        """Why ``reader`` may not read ``case_id``, worded alike whether it exists; None: it may.

        A reader told that a case does not exist (:func:`told_unknown`) passes for a case the
        store does not hold, so that its read answers 404.

        Raises:
            StoreError: the store cannot be read.
        """
        institution = reader.institution if reader is not None else None
        if reader is None or institution is None or public_cases:
            return None
        if self.party_to(case_id, institution):
            return None
        known = told_unknown(reader, self.directory, public_cases)
        if known and self.store.case_head(case_id) is None:
            return None
        return not_its_case(institution, self.directory)

    def read(self, case_id: str, reader: Principal | None, path: str) -> dict[str, Any] | None:
        """The trail as ``reader`` may see it, its personal-data fields logged if any shown.

        Raises:
            NotEntitledError: an institution not party to the case.
            AccessLogError: the access log cannot be written; the view must not be sent.
            StoreError: the trail cannot be read.
        """
        view = self.view(case_id, reader.institution if reader else None)
        shown = shown_personal_fields(view, self.catalog) if view else ()
        if view is not None and shown and reader is not None:
            self.access_log.record(reader, case_id, shown, path)
        return view

    def read_where_public(
        self, case_id: str, reader: Principal | None, path: str
    ) -> dict[str, Any] | None:
        """:meth:`read`, where every case is public (KAWAL_PUBLIC_CASES).

        An institution not party to the case sees what anyone sees, as on the case's page and
        its proof: its credential never gives it less than no credential at all.
        """
        try:
            return self.read(case_id, reader, path)
        except NotEntitledError:
            return self.read(case_id, None, path)


def register_trails(
    app: faust.App, reader: TrailReader, auth: Authenticator, *, public_cases: bool = False
) -> None:
    """Attach ``GET /cases/{case_id}/trail`` to the worker's app.

    Without a credential a trail is read only where every case is public (KAWAL_PUBLIC_CASES).
    """

    @app.page("/cases/{case_id}/trail")
    class Trail(web.View):
        """A case's trail, verified, as the request's principal may see it."""

        async def get(self, request: web.Request, case_id: str) -> web.Response:
            principal = await auth.principal(request)
            if isinstance(principal, AccessRefusal):
                return auth.refuse(self, request, principal)
            refusal = refusal_without_credential(principal, public_cases)
            if refusal is not None:
                return auth.refuse(self, request, refusal)
            case_id = canonical_case_id(case_id) or case_id  # the hub spells UUIDs one way
            try:
                # Before the trail is read: the refusal must not depend on what reading finds.
                refusal = await asyncio.to_thread(reader.refusal, case_id, principal, public_cases)
                if refusal is not None:
                    return auth.refuse(self, request, refusal)
                read = reader.read_where_public if public_cases else reader.read
                view = await asyncio.to_thread(read, case_id, principal, request.url.path)
            except NotEntitledError:
                # A trail that changed hands since the refusal's read: worded alike.
                name = principal.name if principal is not None else ""
                return auth.refuse(self, request, not_its_case(name, reader.directory))
            except AccessLogError:
                return auth.refuse(self, request, ACCESS_LOG_DOWN)
            except StoreError:
                # Not the access log's fault: the trail itself cannot be read.
                return store_unavailable(self)
            except VaultError:
                return vault_unavailable(self)
            if view is None:
                return problem_response(
                    self, 404, "no_such_case", f"no case {case_id} in the audit store"
                )
            return self.json(view)


def store_unavailable(view: web.View) -> web.Response:
    """The answer when the audit store cannot be read (down, locked, damaged)."""
    return problem_response(
        view, 503, "store_unavailable", "the audit store cannot be read; try again"
    )


#: Seconds after which to ask again for a read the vault did not answer: its check (every
#: 5 s, :mod:`streams.hub.vault_check`) waits as long for an answer.
VAULT_RETRY_SECONDS = 10


def vault_unavailable(view: web.View) -> web.Response:
    """The answer when the data-key vault refused or did not answer within its deadline.

    The vault's own check logs why, once (:mod:`streams.hub.vault_check`), not per request.
    """
    return problem_response(
        view,
        503,
        "vault_unavailable",
        "the data-key vault does not answer, so the case's data cannot be read; try again later",
        headers={"Retry-After": str(VAULT_RETRY_SECONDS)},
    )


#: A personal-data read that could not be recorded is not served.
ACCESS_LOG_DOWN = AccessRefusal(
    AccessProblem.ACCESS_LOG_UNAVAILABLE,
    "the access log cannot be written, so personal data is not shown; try again later",
)


#: Readiness while the audit store does not answer.
STORE_UNREACHABLE: dict[str, Any] = {"status": "degraded", "audit_store": "unreachable"}


def store_readiness(store: AuditStore, metrics: HubMetrics) -> tuple[int, dict[str, Any]]:
    """The HTTP status and body of readiness as far as the audit store goes.

    A store that answers reads but refused this process's last write (locked, disk full,
    read-only) is not ready either: the sink holds its batches until a write succeeds.
    """
    try:
        entries = store.count()
    except StoreError:
        return 503, STORE_UNREACHABLE
    if metrics.writes_failing:
        return 503, {"status": "degraded", "audit_store": "refusing_writes"}
    return 200, {"status": "ok", "audit_entries": entries}


def register_health(
    app: faust.App,
    store: AuditStore,
    metrics: HubMetrics,
    broker: BrokerCheck,
    signer: HubSigner | None = None,
) -> None:
    """Attach ``/livez``, ``/readyz`` (and ``/health``, its older name) and ``/metrics``.

    Liveness says only that the process answers and has not crashed: an orchestrator restarts
    it otherwise. Readiness also asks for a broker that answers (``broker`` checks it on its
    timer), assigned partitions, recovered tables and an audit store that answers: traffic and
    rollouts wait for it, but a rebalance or an outage of the broker or the store restarts
    nothing. ``kawal_audit_store_up`` follows the store between requests too
    (:mod:`streams.hub.store_check`). A process that signs (its ``signer``) is not ready while
    the hub has no valid signing key (:mod:`streams.hub.hub_key_check`).
    """
    check = register_store_check(app, store, metrics)

    class Ready(web.View):
        """Readiness: broker answering, partitions assigned, tables recovered, store answering."""

        async def get(self, request: web.Request) -> web.Response:
            # First: a silent broker also ends in a rebalance, which is no start.
            silent = broker.readiness()
            if silent is not None:
                return self.json(silent[1], status=silent[0])
            unsigned = hub_key_check.readiness(signer)
            if unsigned is not None:
                return self.json(unsigned[1], status=unsigned[0])
            recovery = cast(TableManager, app.tables).recovery
            if app.rebalancing or not recovery.completed.is_set():
                return self.json({"status": "starting"}, status=503)
            return await self._store_answer(check)

        async def _store_answer(self, check: StoreCheck) -> web.Response:
            # A store the last check found silent (frozen) is not asked again: the probe
            # would hang on it, and hold one more thread each time.
            if check.answered:
                try:
                    status, body = await asyncio.wait_for(
                        asyncio.to_thread(store_readiness, store, metrics), ANSWER_SECONDS
                    )
                    return self.json(body, status=status)
                except TimeoutError:
                    pass
            return self.json(STORE_UNREACHABLE, status=503)

    class Health(Ready):
        """``/readyz`` by its older name, which scripts and probes already ask."""

    app.page("/readyz")(Ready)
    app.page("/health")(Health)

    @app.page("/livez")
    class Live(web.View):
        """Liveness: the process answers and none of its services crashed."""

        async def get(self, request: web.Request) -> web.Response:
            if app.crashed:
                return self.json({"status": "crashed"}, status=500)
            return self.json({"status": "alive"})

    @app.page("/metrics")
    class Metrics(web.View):
        """Prometheus exposition of the hub's metrics."""

        async def get(self, request: web.Request) -> web.Response:
            # aiohttp refuses a charset inside content_type; the exposition is ASCII anyway.
            return self.bytes(metrics.exposition(), content_type=PROMETHEUS_CONTENT_TYPE)
