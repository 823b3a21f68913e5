"""The worker's, the sink's and the connectors' own word: ``/livez`` and ``/readyz``."""

from __future__ import annotations

from typing import Any

from streams.status.checks import (
    RUNBOOK_BROKER,
    RUNBOOK_CONNECTOR,
    RUNBOOK_HUB_KEY,
    RUNBOOK_PROCESS_DOWN,
    RUNBOOK_STORE,
    Check,
    State,
    ok,
)
from streams.status.web_reads import Answer, get

#: How the reason of a process that does not answer at all begins.
NO_ANSWER = "does not answer"
#: What a 503 of ``/readyz`` names, and the runbook for it (:mod:`streams.web.views`).
_NOT_READY = (
    ("broker", RUNBOOK_BROKER),
    ("audit_store", RUNBOOK_STORE),
    ("hub_signing_key", RUNBOOK_HUB_KEY),
)


def process_check(name: str, base_url: str, *, connector: bool = False) -> Check:
    """What the process serving at ``base_url`` says of itself.

    ``DOWN`` when it does not answer or has crashed, ``DEGRADED`` while it is not ready
    (starting, its broker or store not answering, no valid hub key), else ``OK``.
    """
    down_runbook = RUNBOOK_CONNECTOR if connector else RUNBOOK_PROCESS_DOWN
    live = get(f"{base_url}/livez")
    if live.status == 0:
        return Check(name, State.DOWN, f"{NO_ANSWER} at {base_url} ({live.failure})", down_runbook)
    if live.status != 200:
        return Check(name, State.DOWN, f"/livez answers {live.status} (crashed)", down_runbook)
    ready = get(f"{base_url}/readyz")
    if ready.status == 200:
        return ok(name, f"ready at {base_url}")
    return _not_ready(name, ready, down_runbook)


def _not_ready(name: str, ready: Answer, runbook: str) -> Check:
    body = ready.json()
    if ready.status == 0:
        return Check(name, State.DOWN, f"/readyz does not answer ({ready.failure})", runbook)
    for key, key_runbook in _NOT_READY:
        if key in body:
            return Check(name, State.DEGRADED, f"not ready: {key} {_word(body[key])}", key_runbook)
    if body.get("status") == "starting":
        why = "starting: restoring its tables or joining its group"
        return Check(name, State.DEGRADED, why, runbook)
    return Check(
        name, State.DEGRADED, f"not ready: /readyz answers {ready.status} {_word(body)}", runbook
    )


def _word(value: Any) -> str:
    # The readiness bodies hold states and codes; anything longer is cut, not quoted whole.
    if isinstance(value, dict):
        value = value.get("status", "")
    return value[:60] if isinstance(value, str) else ""
