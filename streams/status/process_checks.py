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
        why = f"{NO_ANSWER} at {base_url} ({live.failure}){_what_to_do(name, live.failure)}"
        return Check(name, State.DOWN, why, down_runbook)
    if live.status != 200:
        return Check(name, State.DOWN, f"/livez answers {live.status} (crashed)", down_runbook)
    ready = get(f"{base_url}/readyz")
    if ready.status == 200:
        return ok(name, f"ready at {base_url}")
    return _not_ready(name, ready, down_runbook)


def _what_to_do(name: str, failure: str) -> str:
    """What an operator does about a process that does not answer, by how it does not."""
    if failure == "connection refused":
        # Nothing listens: the process is not running there (or serves on another port).
        return f": {name} is not running there; start it, or set the port it serves on"
    if failure == "timed out":
        # Something holds the port but answers nothing: frozen, hung on a disk, overloaded.
        return (
            f": {name} accepts connections but answers nothing (frozen or overloaded); "
            "read its log, then restart it"
        )
    return ""


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
