"""``kawal up``, ``worker``, ``sink`` and ``demo``: run the hub, or feed it the demo cases."""

from __future__ import annotations

import argparse
from typing import Any

from streams.cli.exits import EXIT_OK
from streams.settings import Settings

UP_DESCRIPTION = """\
Run the whole hub on this machine: the embedded storage and broker, a worker and the audit
sink, as supervised child processes, until Ctrl-C. State goes to KAWAL_HOME (.kawal).

Its ports, each a setting for when one is taken (README, Configuration): KAWAL_WEB_PORT
(6066, pages and API), KAWAL_SINK_PORT (6067), KAWAL_EMBEDDED_BROKER_PORT (9092),
KAWAL_EMBEDDED_STORAGE_PORT (8333 and the four after it, and those five + 10000 for gRPC:
18333-18337); with --demo KAWAL_LAPOR_PORT (8090, the reporting portal) and
KAWAL_CONNECTOR_METRICS_PORT (6068); with --monitoring KAWAL_PROMETHEUS_PORT (9090)."""


def add_parsers(commands: Any) -> None:
    """Add the commands that run hub processes."""
    up = commands.add_parser(
        "up",
        help="run the whole hub on this machine (embedded broker)",
        description=UP_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    up.add_argument("--demo", action="store_true", help="feed a few realistic demo cases")
    up.add_argument(
        "--ephemeral", action="store_true", help="keep broker data in memory (lost on stop)"
    )
    up.add_argument(
        "--monitoring",
        action="store_true",
        help="also run Prometheus (Debian's package) with the alert rules, on 127.0.0.1",
    )
    up.set_defaults(run=_up, serves=True)
    worker = commands.add_parser(
        "worker", help="run one stream-processing worker (KAWAL_BROKER_URL)"
    )
    worker.set_defaults(run=_worker, serves=True)
    sink = commands.add_parser(
        "sink", help="run the audit sink: kawal.case.audit into the audit store (KAWAL_BROKER_URL)"
    )
    sink.set_defaults(run=_worker, serves=True)
    demo = commands.add_parser("demo", help="publish the demo cases to a running hub")
    demo.set_defaults(run=_demo, serves=True)


def _up(args: argparse.Namespace, settings: Settings) -> int:
    from streams.local.supervisor import run_up

    return run_up(settings, demo=args.demo, ephemeral=args.ephemeral, monitoring=args.monitoring)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from streams.app import Role
    from streams.worker import run_worker

    return run_worker(settings, Role(args.command))


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from streams.broker.credentials import BrokerCredentials
    from streams.local.demo_publisher import publish_demo

    credentials = BrokerCredentials.from_settings(settings)
    print("\n".join(publish_demo(settings, settings.effective_broker_url, credentials)))
    return EXIT_OK
