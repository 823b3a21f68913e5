"""``kawal status``: is the hub of this ``KAWAL_HOME`` and settings OK, and if not, where to look.

One line per check (the worker, the sink, the broker, the audit store, the hub's signing key,
consumer lag; the demo connectors and the firing alerts when ``kawal up`` runs them), each
``OK``, ``DEGRADED`` or ``DOWN`` with its reason and the runbook section to read. Made for an
operator's morning and a monitoring check alike: it answers within a few seconds, and its exit
code is the verdict.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from streams.cli.exits import EXIT_DEGRADED, EXIT_DOWN, EXIT_NOT_RUNNING, EXIT_OK
from streams.settings import Settings

#: The exit code of each verdict.
EXIT_CODES = {
    "OK": EXIT_OK,
    "DEGRADED": EXIT_DEGRADED,
    "DOWN": EXIT_DOWN,
    "NOT_RUNNING": EXIT_NOT_RUNNING,
}
DESCRIPTION = f"""\
Whether the hub on this KAWAL_HOME and settings is OK: each check on a line, OK, DEGRADED or
DOWN, with its reason and the runbook section of docs/operations.md to read. It reads what the
processes expose (the worker's and the sink's /livez, /readyz and /metrics), asks
the broker for its metadata and the audit store a trivial query, and, under `kawal up --demo`
or `--monitoring`, the connectors' /readyz and the firing alerts. A `kawal up` on this home is
found at the ports it was started with (KAWAL_HOME/up.json); otherwise the settings' ports
are asked. Nothing personal is shown.

The checks are shown under the process they are about: the worker, the audit sink (its
store writes, the trail entries waiting for it and when it stored the last, the records it
dead-lettered), then the hub's broker, store and the rest. A process that does not answer is
named with how (connection refused: not running; timed out: frozen) and what to do; each
address is given 2 s, all checks together at most a few seconds.

Exit codes: {EXIT_OK} all OK, {EXIT_DEGRADED} degraded (a process not ready, lag, dead
letters of the sink), {EXIT_DOWN} something is down (the worker or the sink not answering or
crashed, the sink stalled or its store writes failing, the broker, the audit store, the hub's
key), {EXIT_NOT_RUNNING} no process of the hub runs on this home (nor answers at its ports)."""


def add_parsers(commands: Any) -> None:
    """Add ``status``."""
    status = commands.add_parser(
        "status",
        help="whether the hub is OK, and if not, what is wrong and where to look (exit "
        f"{EXIT_OK} OK, {EXIT_DEGRADED} degraded, {EXIT_DOWN} down, {EXIT_NOT_RUNNING} not "
        "running)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(run=_status)


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from streams.status.report import hub_status

    found = hub_status(settings)
    if args.json:
        print(json.dumps(found.as_json() | {"exit_code": EXIT_CODES[found.state]}))
    else:
        print("\n".join(_lines(found.as_json())))
    return EXIT_CODES[found.state]


def _lines(report: dict[str, Any]) -> list[str]:
    """The report as text: a headline, then a line per check."""
    who = ", ".join(f"{name} pid {pid}" for name, pid in report["processes"].items())
    head = f"kawal status: {report['state']} (KAWAL_HOME={report['home']}"
    head += f"; {who})" if who else "; no process holds this home)"
    if report["state"] == "NOT_RUNNING":
        head += (
            "\nthe hub is not running on this KAWAL_HOME: start it (`kawal up`), or set "
            "KAWAL_HOME and the ports (KAWAL_WEB_PORT, KAWAL_SINK_PORT) to those of the hub"
        )
    return [head, *_section(report, "worker"), *_section(report, "sink"), *_section(report, "hub")]


def _section(report: dict[str, Any], process: str) -> list[str]:
    """The checks about ``process`` under a line naming it and where it was asked."""
    where = report["addresses"].get(process, "broker, audit store and the rest")
    rows = [
        f"  {check['state']:<9} {check['name']:<18} {check['reason']}"
        + (f"  -> {check['runbook']}" if check["runbook"] and check["state"] != "OK" else "")
        for check in report["checks"]
        if check["process"] == process
    ]
    return [f"{process} ({where})", *rows] if rows else []
