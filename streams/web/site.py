"""Every HTTP view of the worker, attached in one place: trails, access log, pages, exports.

The worker's pipeline and stores are built by :mod:`streams.app`; this module reads the
settings that only the views need (severity, headcounts, the public register) and registers
each view with what it reads.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import faust

from monitoring.metrics import HubMetrics
from streams.audit.access_log import AccessLog
from streams.audit.case_proofs import ProofReader
from streams.audit.figures.cache import ProjectionCache
from streams.audit.head_reads import HeadReader
from streams.audit.public_names import UNKNOWN, public_names
from streams.audit.public_register import NameSource, RegisterMode, closed_cases
from streams.audit.read_cache import StoreReadCache
from streams.audit.store import AuditStore
from streams.audit.trail import Directory
from streams.audit.tree_log import LogCopy, TreeLog
from streams.domain.disclosure_policy import DisclosurePolicy
from streams.domain.headcounts import load_headcounts
from streams.domain.parties import party_to_every_case
from streams.domain.severity import load_severity
from streams.hub.broker_check import BrokerCheck
from streams.hub.pipeline import Pipeline
from streams.vault.entries import CaseKeys
from streams.web import (
    access,
    dashboard,
    heads,
    page,
    proofs,
    register_page,
    triage_page,
    views,
)
from streams.web.auth import Authenticator
from streams.web.render import templates


class ViewSettings(Protocol):
    """The settings the views read; :class:`streams.settings.Settings` has them.

    A protocol rather than an import: ``streams.web`` does not import the settings module
    (tests/test_architecture.py), the composition root hands them over.
    """

    @property
    def severity_file(self) -> Path | None:
        """TOML severity of each violation category, or None for the bundled one."""

    @property
    def headcounts_file(self) -> Path | None:
        """TOML civil servants per agency, or None for the bundled one."""

    @property
    def stats_min_cases(self) -> int:
        """K: no public figure is derived from fewer cases."""

    @property
    def public_cases(self) -> bool:
        """Whether readers without a credential see every case (personal data withheld)."""

    @property
    def portal_url(self) -> str | None:
        """The public reporting portal's address, linked on every page, or None."""

    @property
    def public_register(self) -> str:
        """``off``, ``agencies`` or ``names``."""

    @property
    def public_register_legal_basis(self) -> str | None:
        """The documented legal basis for names in the public register."""


@dataclass(frozen=True)
class SiteSources:
    """What the worker's views read."""

    store: AuditStore
    step: Pipeline
    #: The vault's reads, given up after a deadline (:mod:`streams.vault.answer_deadline`).
    vault: CaseKeys
    metrics: HubMetrics
    policy: DisclosurePolicy
    auth: Authenticator
    #: Whether the broker answers (readiness).
    broker: BrokerCheck


def register(app: faust.App, settings: ViewSettings, sources: SiteSources) -> None:
    """Attach every view of the worker to ``app``."""
    step, store, auth = sources.step, sources.store, sources.auth
    institutions = tuple(step.rules.institutions.values())
    directory = Directory(institutions, step.rules.authority_map)
    log = AccessLog(store.engine, step.hub_key.key_at)
    trails = views.TrailReader(
        store, step.codec, step.rules.catalog, sources.policy, directory, log, step.rules.keys,
        sources.vault, sources.metrics,
    )  # fmt: skip
    templates().share("portal_url", settings.portal_url)
    names = public_names(institutions)
    templates().share("institution_names", dict(names.agencies))
    templates().share("region_names", dict(names.regions))
    templates().share("unknown_names", UNKNOWN)
    views.register_health(app, store, sources.metrics, sources.broker, step.hub_key)
    views.register_trails(app, trails, auth, public_cases=settings.public_cases)
    tree = TreeLog(store.engine)
    log_copy = LogCopy(tree)  # one copy in memory, for proofs of entries and of heads
    proofs.register_proofs(
        app, ProofReader(store, log_copy), auth, trails, public_cases=settings.public_cases
    )
    heads.register_heads(app, HeadReader(tree, log_copy), auth)
    access.register_access_log(
        app, access.AccessReader(log, store, step.codec, directory, sources.policy), auth
    )
    figures = ProjectionCache(store, step.codec)
    page.register(
        app,
        page.PageSources(
            step.table,
            trails,
            figures,
            sources.metrics,
            auth,
            step.rules.calendar,
            settings.stats_min_cases,
            settings.public_cases,
        ),
    )
    categories = step.rules.catalog.schema("kawal.ViolationCategory")["symbols"]
    severity = load_severity(categories, settings.severity_file)
    triage_page.register(
        app,
        triage_page.TriageSources(step.table, severity, step.rules.calendar, directory, auth),
    )
    register_page.register(app, register_sources(settings, sources))
    dashboard.register_dashboard(
        app,
        dashboard.DashboardSources(
            figures,
            step.rules.calendar,
            load_headcounts(settings.headcounts_file),
            auth,
            names=dict(names.agencies),
            min_cases=settings.stats_min_cases,
            ppks=frozenset(
                institution.id for institution in institutions if institution.role == "ppk"
            ),
            every_case=frozenset(
                institution.id for institution in institutions if party_to_every_case(institution)
            ),
            public_names=names,
        ),
    )


def register_sources(settings: ViewSettings, sources: SiteSources) -> register_page.RegisterSources:
    """What ``/register`` publishes: nothing, agencies, or names on a documented legal basis."""
    step = sources.step
    mode = RegisterMode(settings.public_register)
    names = None
    if mode is RegisterMode.NAMES:
        names = NameSource(step.rules.catalog, step.codec, step.rules.keys, sources.vault)
    store = sources.store
    closed = StoreReadCache(store, functools.partial(closed_cases, store, step.codec))
    return register_page.RegisterSources(
        mode, settings.public_register_legal_basis, store, closed, sources.auth, names
    )
