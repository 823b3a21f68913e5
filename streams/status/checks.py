"""One check's verdict, the hub's verdict over all of them, and the runbooks they point to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

#: The runbook of every verdict: a section of docs/operations.md.
OPERATIONS = "docs/operations.md"
RUNBOOK_STATUS = f"{OPERATIONS}#check-the-hub-kawal-status"
RUNBOOK_PROCESS_DOWN = f"{OPERATIONS}#kawalprocessdown"
RUNBOOK_BROKER = f"{OPERATIONS}#kawalbrokerunanswered"
RUNBOOK_STORE = f"{OPERATIONS}#kawalauditstoreunreachable"
RUNBOOK_HUB_KEY = f"{OPERATIONS}#kawalhubsigningkeyinvalid"
RUNBOOK_HUB_KEY_FILE = f"{OPERATIONS}#kawalhubkeyfiledamaged"
RUNBOOK_LAG = f"{OPERATIONS}#kawalconsumerlaggrowing"
RUNBOOK_LAG_UNKNOWN = f"{OPERATIONS}#kawallagunknown"
RUNBOOK_CONNECTOR = f"{OPERATIONS}#kawalconnectordown"
RUNBOOK_ALERTS = f"{OPERATIONS}#alerts"
RUNBOOK_SINK_STALLED = f"{OPERATIONS}#kawalsinkstalled"
RUNBOOK_DEAD_LETTERS = f"{OPERATIONS}#kawaldeadletterburst"


class State(IntEnum):
    """A check's verdict, ordered from best to worst: the hub's is the worst of its checks."""

    OK = 0
    DEGRADED = 1
    DOWN = 2


@dataclass(frozen=True)
class Check:
    """What one check found.

    Attributes:
        name: What was checked (``worker``, ``sink``, ``broker``, ``audit_store``, ...).
        state: Its verdict.
        reason: Why, in a few words; states and codes only, never a personal value.
        runbook: The section of docs/operations.md to read; empty when all is well.
    """

    name: str
    state: State
    reason: str
    runbook: str = ""

    def as_json(self) -> dict[str, Any]:
        """The check as ``kawal status --json`` shows it."""
        return {
            "name": self.name,
            "state": self.state.name,
            "reason": self.reason,
            "runbook": self.runbook or None,
        }


def ok(name: str, reason: str) -> Check:
    """A check that found all well."""
    return Check(name, State.OK, reason)


def worst(checks: list[Check]) -> State:
    """The hub's verdict: the worst of its checks (OK when there is none)."""
    return max((check.state for check in checks), default=State.OK)
