"""``kawal connector list|run|new|demo``: the connector SDK's commands.

Registered under the entry-point group ``kawal.commands``, so the hub's command line finds them
without importing the SDK.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors import registry
from connectors.base import Connector, ConnectorConfig, InboundConnector, OutboundConnector
from connectors.errors import ConnectorConfigError
from connectors.host import build, only_copy, run_held
from connectors.redelivery import parse_positions
from connectors.scaffold import new_connector
from connectors.scaffold_institution import DEFAULT_INSTITUTION
from connectors.start_checks import checked_keyring
from monitoring.connectors import ConnectorMetrics
from schemas.errors import KawalError
from streams import logs
from streams.broker.credentials import BrokerCredentials
from streams.broker.endpoint import parse_broker_url
from streams.settings import Settings

log = logging.getLogger(__name__)


def add_parsers(commands: Any) -> None:
    """Add ``connector`` to the ``kawal`` subcommands."""
    connector = commands.add_parser("connector", help="connectors between institutions and the hub")
    actions = connector.add_subparsers(dest="connector_command", required=True)
    listing = actions.add_parser("list", help="installed connectors (entry points)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    run = actions.add_parser("run", help="run one connector until stopped")
    run.add_argument("name")
    run.add_argument("--config", type=Path, required=True, help="the connector's TOML file")
    run.add_argument(
        "--redeliver-from",
        action="append",
        default=[],
        metavar="PARTITION:OFFSET",
        help="outbound: deliver the feed again from there (a dead letter's source position)",
    )
    run.add_argument(
        "--reread-after",
        metavar="POSITION",
        help="inbound: read the system again after this position (as its dead letter names)",
    )
    new = actions.add_parser("new", help="create a connector package in the current directory")
    new.add_argument("name")
    new.add_argument(
        "--institution",
        default=DEFAULT_INSTITUTION,
        help=(
            "the id it speaks for, registered in KAWAL_INSTITUTIONS_FILE (default "
            f"{DEFAULT_INSTITUTION}); its role chooses the example mapping"
        ),
    )
    actions.add_parser("demo", help="every reference connector against its simulator")
    connector.set_defaults(run=run_command, serves=True)


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run a ``connector`` subcommand; return the exit code."""
    logs.configure(settings.log_format, settings.log_level)
    bootstrap = list(parse_broker_url(settings.effective_broker_url).bootstrap)
    credentials = BrokerCredentials.from_settings(settings)
    if args.connector_command == "list":
        return _list_connectors(as_json=args.json)
    if args.connector_command == "new":
        created = new_connector(args.name, Path.cwd(), args.institution, settings)
        print(f"created {created} for {args.institution}")
        return 0
    if args.connector_command == "demo":
        return _demo(bootstrap, settings, credentials, _served_metrics(settings))
    redeliver = parse_positions(args.redeliver_from)
    positions = Positions(redeliver, args.reread_after)
    return _run(
        args.name, args.config, bootstrap, settings, credentials, positions, _served_metrics
    )


def _served_metrics(settings: Settings) -> ConnectorMetrics:
    """The process's connector metrics, served on KAWAL_CONNECTOR_METRICS_PORT (0: nowhere).

    Raises:
        ConnectorConfigError: the port cannot be served (another process holds it, or the
            host is no address of this machine).
    """
    metrics = ConnectorMetrics()
    host, port = settings.web_host, settings.connector_metrics_port
    try:
        metrics.serve(host, port, settings.http_idle_seconds)
    except OSError as exc:
        raise ConnectorConfigError(_unservable(host, port, exc)) from None
    if port:
        log.info("connector metrics on http://%s:%d/metrics", host, port)
    return metrics


def _unservable(host: str, port: int, exc: OSError) -> str:
    """What to do when the metrics' port cannot be bound."""
    choose = "set KAWAL_CONNECTOR_METRICS_PORT to a free port, or to 0 to serve no metrics"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} for the connector's metrics is in use (by another "
            f"connector, or the connectors of `kawal up --demo`?): {choose}"
        )
    return (
        f"cannot serve the connector's metrics on {host}:{port} "
        f"({exc.strerror or type(exc).__name__}): {choose}, and KAWAL_WEB_HOST to an address "
        "of this machine"
    )


def _list_connectors(*, as_json: bool) -> int:
    rows = [
        {"name": name, "direction": cls.direction, "module": cls.__module__}
        for name, cls in registry.available().items()
        if hasattr(cls, "direction")
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
    for row in [] if as_json else rows:
        print(f"{row['name']:<28} {row['direction']:<9} {row['module']}")
    return 0


def _run(
    name: str,
    config: Path,
    bootstrap: list[str],
    settings: Settings,
    credentials: BrokerCredentials,
    positions: Positions,
    served: Callable[[Settings], ConnectorMetrics],
) -> int:
    # The lock first: building a connector may open its listener (bawaslu-webhook), so a
    # second copy must exit before that, never answering a request meant for the first.
    with only_copy(registry.load(name).name, settings.home):
        connector = build(name, config)
        positions.check(connector)
        keyring = checked_keyring(connector, settings)
        # Served only once the connector, its registry and its keys are valid: a refused one
        # binds no port, and says it runs only once nothing known stops it.
        metrics = served(settings)
        stop = _stop_on_signals()
        log.info("%s: running for %s (Ctrl-C stops)", name, connector.institution)
        run_held(
            connector,
            bootstrap,
            settings.home,
            stop,
            credentials,
            keyring,
            redeliver_from=positions.redeliver,
            reread_after=positions.reread_after,
            metrics=metrics,
            wait=settings.broker_wait_seconds,
        )
    return 0


@dataclass(frozen=True)
class Positions:
    """Where a connector starts again: its feed's offsets (outbound), its system's (inbound)."""

    redeliver: dict[int, int]
    reread_after: str | None

    def check(self, connector: Connector[ConnectorConfig]) -> None:
        """Refuse a position of the other direction than ``connector``'s.

        Raises:
            ConnectorConfigError: ``--redeliver-from`` for an inbound connector, or
                ``--reread-after`` for an outbound one.
        """
        if self.redeliver and not isinstance(connector, OutboundConnector):
            raise ConnectorConfigError(
                f"--redeliver-from applies to outbound connectors; {connector.name} reads its "
                "system, which it reads again from its checkpoint (or from --reread-after)"
            )
        if self.reread_after is not None and not isinstance(connector, InboundConnector):
            raise ConnectorConfigError(
                f"--reread-after applies to inbound connectors; {connector.name} delivers its "
                "feed, which it delivers again from --redeliver-from PARTITION:OFFSET"
            )


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _demo(
    bootstrap: list[str],
    settings: Settings,
    credentials: BrokerCredentials,
    metrics: ConnectorMetrics,
) -> int:
    from connectors.demo import run_demo

    stop = _stop_on_signals()
    run_demo(bootstrap, settings.home, stop, credentials, metrics, _demo_hub(settings))
    return 0


def _demo_hub(settings: Settings) -> dict[str, Any]:
    """The demo's ``ppk-inbox`` settings that read subjects from the hub's trails, if it can.

    Without an audit store to issue its token in (a demo run without ``kawal up``), or a
    store refusing the token, it reads subjects from its feed only, and says so.
    """
    from streams.local.demo_token import DEMO_PPK, demo_hub_url, demo_token

    try:
        token_file = demo_token(settings)
    except KawalError as exc:
        log.warning(
            "the demo's ppk-inbox gets no token of %s (%s), so it reads no subject from the "
            "hub's trails: start the demo with `kawal up --demo`",
            DEMO_PPK,
            exc,
        )
        return {}
    return {"hub_url": demo_hub_url(settings), "token_file": str(token_file)}
