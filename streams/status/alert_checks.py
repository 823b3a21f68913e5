"""The alerts firing in the Prometheus of ``kawal up --monitoring``."""

from __future__ import annotations

from typing import Any

from streams.status.checks import OPERATIONS, RUNBOOK_STATUS, Check, State, ok
from streams.status.web_reads import get

#: The severity of ``KawalWatchdog``, which always fires while the alert path works: no fault.
HEARTBEAT = "heartbeat"


def alerts_check(prometheus: str) -> Check:
    """``DOWN`` while a paging alert fires, ``DEGRADED`` while a ticket does, else ``OK``.

    Only alert names and severities are read: their labels are closed vocabularies, but the
    summary is left to Prometheus's own page. The heartbeat (``KawalWatchdog``) is left out.
    """
    answer = get(f"{prometheus}/api/v1/alerts")
    alerts = answer.json().get("data", {}).get("alerts") if answer.status == 200 else None
    if not isinstance(alerts, list):
        why = f"Prometheus does not answer at {prometheus} ({answer.failure or answer.status})"
        return Check("alerts", State.DEGRADED, why, RUNBOOK_STATUS)
    named_alerts = {_name_and_severity(a) for a in alerts if a.get("state") == "firing"}
    firing = sorted(
        (found for found in named_alerts if found[1] != HEARTBEAT),
        key=lambda found: (found[1] != "page", found[0]),
    )
    if not firing:
        return ok("alerts", f"none firing ({prometheus}/alerts)")
    state = State.DOWN if firing[0][1] == "page" else State.DEGRADED
    named = ", ".join(f"{name} ({severity})" for name, severity in firing)
    return Check("alerts", state, f"firing: {named}", f"{OPERATIONS}#{firing[0][0].lower()}")


def _name_and_severity(alert: Any) -> tuple[str, str]:
    labels = alert.get("labels", {}) if isinstance(alert, dict) else {}
    return str(labels.get("alertname", "unnamed")), str(labels.get("severity", ""))
