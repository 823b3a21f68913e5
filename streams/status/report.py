"""Every check of a home's hub at once, each within its timeout, and the verdict over them."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from streams.daemon_pool import DaemonPool
from streams.settings import Settings
from streams.status.alert_checks import alerts_check
from streams.status.backend_checks import broker_check, store_check
from streams.status.checks import RUNBOOK_STATUS, Check, State, worst
from streams.status.metric_checks import metric_checks
from streams.status.process_checks import NO_ANSWER, process_check
from streams.status.sink_checks import SINK_CHECKS, sink_checks
from streams.status.targets import Targets, find_targets
from streams.status.web_reads import TIMEOUT_SECONDS

#: Seconds all checks together may take; one still waiting then is reported as not answering.
#: The slowest check reads two addresses one after the other, each within its own timeout.
DEADLINE_SECONDS = 2 * TIMEOUT_SECONDS + 1.0
#: What a hub no process of which runs is called, beside the check states.
NOT_RUNNING = "NOT_RUNNING"
#: The process each check is about; the others (broker, audit store, connectors, alerts) are
#: the hub's as a whole.
PROCESS_OF = {"worker": "worker", "hub_key": "worker", "lag": "worker", "sink": "sink"} | {
    name: "sink" for name in SINK_CHECKS
}
HUB = "hub"


@dataclass(frozen=True)
class HubStatus:
    """What ``kawal status`` found.

    Attributes:
        targets: Where it asked, and who holds a lock on the home.
        checks: Each check's verdict, in a fixed order.
        running: False when no process holds a lock on the home and neither the worker nor
            the sink answers.
    """

    targets: Targets
    checks: list[Check]
    running: bool

    @property
    def state(self) -> str:
        """``OK``, ``DEGRADED``, ``DOWN`` or ``NOT_RUNNING``."""
        return worst(self.checks).name if self.running else NOT_RUNNING

    def as_json(self) -> dict[str, Any]:
        """The report as ``kawal status --json`` prints it (docs/operations.md documents it)."""
        targets = self.targets
        return {
            "state": self.state,
            "home": str(targets.home),
            "source": targets.source,
            "processes": {name: _pid(pid) for name, pid in targets.holders.items()},
            "checks": [
                check.as_json() | {"process": PROCESS_OF.get(check.name, HUB)}
                for check in self.checks
            ],
            "addresses": {"worker": targets.worker, "sink": targets.sink},
        }


def hub_status(settings: Settings) -> HubStatus:
    """Run every check that applies to the hub of ``settings``, in parallel."""
    targets = find_targets(settings)
    probes = _probes(settings, targets)
    pool = DaemonPool(len(probes), "kawal-status")
    # Daemon threads: a check stuck on a frozen store or broker must not hold the exit.
    futures = {names: pool.submit(probe) for names, probe in probes.items()}
    deadline = time.monotonic() + DEADLINE_SECONDS
    checks = [
        check for names, future in futures.items() for check in _outcome(names, future, deadline)
    ]
    pool.shutdown(wait=False)
    return HubStatus(targets, checks, running=_running(targets, checks))


#: A probe, by the names of the checks it returns, in the order they are listed.
Probes = dict[tuple[str, ...], Callable[[], list[Check]]]


def _probes(settings: Settings, targets: Targets) -> Probes:
    probes: Probes = {
        ("worker",): lambda: [process_check("worker", targets.worker)],
        ("sink",): lambda: [process_check("sink", targets.sink)],
        ("broker",): lambda: [broker_check(settings, targets.broker)],
        ("audit_store",): lambda: [store_check(settings)],
        ("hub_key", "lag"): lambda: metric_checks(targets.worker),
        SINK_CHECKS: lambda: sink_checks(targets.sink, targets.worker),
    }
    if (connectors := targets.connectors) is not None:
        probes[("connectors",)] = lambda: [process_check("connectors", connectors, connector=True)]
    if (prometheus := targets.prometheus) is not None:
        probes[("alerts",)] = lambda: [alerts_check(prometheus)]
    return probes


def _outcome(names: tuple[str, ...], future: Future[list[Check]], deadline: float) -> list[Check]:
    try:
        return future.result(timeout=max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        why = f"no answer within {DEADLINE_SECONDS:g} s"
    except Exception as exc:  # a check's own defect: named by type, its text may say more
        why = f"could not be checked ({type(exc).__name__})"
    return [Check(name, State.DOWN, why, RUNBOOK_STATUS) for name in names]


def _running(targets: Targets, checks: list[Check]) -> bool:
    if targets.holders:
        return True
    silent = [
        check
        for check in checks
        if check.name in ("worker", "sink") and check.reason.startswith(NO_ANSWER)
    ]
    return len(silent) < 2


def _pid(text: str) -> int | str:
    return int(text) if text.isdigit() else text
