"""The broker (a metadata request with the settings' credentials) and the audit store."""

from __future__ import annotations

from streams.audit.store import AuditStore
from streams.audit.store_errors import StoreError
from streams.broker.credentials import BrokerCredentials
from streams.broker.endpoint import admin_client, parse_broker_url, without_credentials
from streams.settings import Settings
from streams.status.checks import RUNBOOK_BROKER, RUNBOOK_STORE, Check, State, ok
from streams.status.web_reads import TIMEOUT_SECONDS


def broker_check(settings: Settings, url: str, timeout: float = TIMEOUT_SECONDS) -> Check:
    """Whether the broker at ``url`` describes its cluster to a client with the settings' login."""
    shown = without_credentials(url)
    try:
        security = BrokerCredentials.from_settings(settings).client_kwargs()
        with admin_client(parse_broker_url(url), security, timeout) as admin:
            brokers = len(admin.describe_cluster().get("brokers", []))
    except Exception as exc:  # kafka-python's errors, a refused login, a bad URL alike
        why = f"does not answer at {shown} within {timeout:g} s ({type(exc).__name__})"
        return Check("broker", State.DOWN, why, RUNBOOK_BROKER)
    return ok("broker", f"answers at {shown} ({brokers} broker{'s' if brokers != 1 else ''})")


def store_check(settings: Settings) -> Check:
    """Whether the audit store of the settings exists and answers a trivial query."""
    try:
        with AuditStore.open_existing(settings.audit_url) as store:
            store.answers()
    except StoreError as exc:
        # Its text names the store, password hidden, and what to do.
        return Check("audit_store", State.DOWN, str(exc), RUNBOOK_STORE)
    return ok("audit_store", "answers")
