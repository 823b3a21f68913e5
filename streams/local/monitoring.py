"""The local Prometheus of ``kawal up --monitoring``: a supervised child on loopback.

Prometheus comes from Debian's ``prometheus`` package (``apt-get install -y prometheus``, or
``make system-deps``); without it ``kawal up --monitoring`` says so and starts nothing. It
scrapes the worker, the sink and the connectors, evaluates the hub's alert and recording
rules (``monitoring/prometheus/rules.yml``) and serves its UI and API on
``127.0.0.1:KAWAL_PROMETHEUS_PORT``: targets at ``/targets``, firing alerts at ``/alerts``.
With ``KAWAL_ALERTMANAGER_URL`` it sends them to that Alertmanager, which routes them to
people (docs/operations.md, "How alerts reach people"); without it, it says at start that they
reach nobody.
"""

from __future__ import annotations

import shutil
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from monitoring.scrape import RULES_FILE, prometheus_config, write_prometheus_config
from schemas.errors import KawalError
from streams.local.port_holders import in_use
from streams.local.processes import ChildFailedError, ChildProcess, port_in_use
from streams.private_files import private_dir
from streams.settings import Settings

#: Seconds Prometheus has to answer ``/-/ready`` (it replays its write-ahead log first).
READY_TIMEOUT_SECONDS = 60.0
INSTALL_HINT = (
    "Prometheus is not installed: run `sudo apt-get install -y prometheus` (Debian's "
    "package; `make system-deps` does it), or start without --monitoring"
)
NO_ALERTMANAGER = (
    "kawal: no KAWAL_ALERTMANAGER_URL: alerts are only shown on Prometheus's /alerts page and "
    "reach nobody; set it to an Alertmanager that routes them to people "
    "(docs/operations.md, How alerts reach people)"
)


class MonitoringError(KawalError):
    """The local Prometheus cannot be started."""


def find_prometheus() -> Path:
    """The ``prometheus`` binary on PATH (Debian's package puts it in /usr/bin).

    Raises:
        MonitoringError: not on PATH, with the command to install it.
    """
    found = shutil.which("prometheus")
    if found:
        return Path(found)
    raise MonitoringError(INSTALL_HINT)


def for_hub(settings: Settings, *, connectors: bool) -> LocalPrometheus:
    """The Prometheus of ``kawal up --monitoring``: the worker, the sink, the demo connectors.

    Raises:
        MonitoringError: Prometheus is not installed, or its port is taken; checked before
            anything starts, so the hub does not start without the monitoring asked for.
    """
    find_prometheus()
    if port_in_use("127.0.0.1", settings.prometheus_port):
        raise MonitoringError(
            in_use("127.0.0.1", settings.prometheus_port, "KAWAL_PROMETHEUS_PORT")
        )
    host = settings.web_host
    targets = {
        "kawal-worker": [f"{host}:{settings.web_port}"],
        "kawal-sink": [f"{host}:{settings.sink_port}"],
        "kawal-connectors": [f"{host}:{settings.connector_metrics_port}"] if connectors else [],
    }
    return LocalPrometheus(
        settings.log_dir.parent / "monitoring",
        settings.prometheus_port,
        targets,
        scheme=settings.web_scheme,
        alertmanager=settings.alertmanager_url,
        runbooks=settings.runbook_base_url or runbooks_here(),
    )


def runbooks_here() -> str | None:
    """This checkout's docs folder as a ``file://`` URL (runbooks open on this machine).

    None where the hub was installed without its docs (an image): the links stay paths.
    """
    docs = RULES_FILE.parents[2] / "docs"
    return docs.resolve().as_uri() if (docs / "operations.md").is_file() else None


class LocalPrometheus:
    """Prometheus scraping ``targets`` (``host:port`` by job) with the hub's rules."""

    def __init__(
        self,
        home: Path,
        port: int,
        targets: Mapping[str, Sequence[str]],
        *,
        interval_seconds: float = 5.0,
        scheme: str = "http",
        rules: Path = RULES_FILE,
        alertmanager: str | None = None,
        runbooks: str | None = None,
    ) -> None:
        # Absolute: Prometheus runs in its data folder, where a relative KAWAL_HOME (make run's
        # ".kawal") would name another place.
        self.home = home.resolve()
        self.port = port
        # Loopback targets it was started beside: their certificates name the public host.
        self.config = prometheus_config(
            targets,
            interval_seconds=interval_seconds,
            scheme=scheme,
            rules=rules.resolve(),
            verify_tls=False,
            alertmanager=alertmanager,
            runbooks=runbooks,
            itself=f"127.0.0.1:{port}",
        )
        self.alertmanager = alertmanager
        self.child: ChildProcess | None = None

    @property
    def url(self) -> str:
        """Base URL of its UI and HTTP API."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Write the configuration, start Prometheus and wait until it is ready.

        Raises:
            MonitoringError: not installed.
            ChildFailedError: it exited or was not ready in time (its log's tail attached).
        """
        binary = find_prometheus()
        if self.alertmanager is None and self.child is None:  # once, not at each restart
            print(NO_ALERTMANAGER, file=sys.stderr, flush=True)
        data = private_dir(self.home / "prometheus")
        config = write_prometheus_config(data / "prometheus.yml", self.config)
        self.child = ChildProcess(
            "prometheus",
            [
                str(binary),
                f"--config.file={config}",
                f"--storage.tsdb.path={data / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=15d",
            ],
            self.home / "prometheus.log",
            cwd=data,
        )
        self.child.start()
        self.child.wait_for_port("127.0.0.1", self.port, timeout=READY_TIMEOUT_SECONDS)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.child is None or not self.child.alive:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        tail = self.child.log_tail() if self.child else ""
        raise ChildFailedError(
            f"Prometheus was not ready within {READY_TIMEOUT_SECONDS:.0f} s; see "
            f"{self.home / 'prometheus.log'}",
            returncode=self.child.returncode if self.child else None,
            log_tail=tail,
        )

    def links(self) -> dict[str, str]:
        """Where to look: the UI (targets, graphs) and the alerts."""
        found = {"prometheus": self.url, "alerts": f"{self.url}/alerts"}
        return found | ({"alertmanager": self.alertmanager} if self.alertmanager else {})

    def keep_alive(self) -> None:
        """Start Prometheus again if it exited (the supervisor's watch calls this)."""
        if self.child is not None and not self.child.alive:
            print("kawal: Prometheus exited; restarting", file=sys.stderr)
            self.start()

    @property
    def alive(self) -> bool:
        """True while Prometheus runs."""
        return self.child is not None and self.child.alive

    def stop(self) -> None:
        """Stop Prometheus (it flushes its head block on SIGTERM)."""
        if self.child is not None:
            self.child.stop(15.0)
