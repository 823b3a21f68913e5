"""``kawal up``: the whole hub on one machine, supervised.

Starts, as child processes: the embedded storage (SeaweedFS S3, unless ``--ephemeral``), the
tansu broker, then one Faust worker and the audit sink; provisions every topic in between.
Children die with the supervisor (PR_SET_PDEATHSIG), so even ``kill -9`` of ``kawal up`` leaves
no process behind.
A lock on ``KAWAL_HOME`` (:mod:`streams.home_locks`) and a port check make a second ``kawal up``
fail at once, as a worker or sink started by hand on the home does.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from types import FrameType

from streams.audit.store import AuditStore
from streams.broker.credentials import BrokerCredentials
from streams.broker.endpoint import parse_broker_url, without_credentials
from streams.broker.provision import BrokerUnreachableError
from streams.domain.institutions import load_institutions
from streams.home_locks import up_lock
from streams.local.children import open_child_url, refuse_credentials_for_embedded
from streams.local.demo import demo_settings
from streams.local.demo_mix import mix_waves
from streams.local.demo_portal import PORT_SETTING as PORTAL_PORT_SETTING
from streams.local.demo_portal import announce_demo_report, portal_port, portal_url
from streams.local.demo_publisher import publish_demo
from streams.local.embedded import EmbeddedCluster, evidence_env
from streams.local.lost_vault import lost_vault_warning
from streams.local.monitoring import LocalPrometheus, for_hub
from streams.local.port_holders import in_use
from streams.local.processes import ChildFailedError, ChildProcess, port_in_use
from streams.local.restarts import Restarts, how_it_exited
from streams.local.startup import make_local_keys, meanwhile, provision_feeds_later
from streams.local.storage import refuse_taken_storage_ports
from streams.local.up_state import remove_state, state_of, write_state
from streams.private_files import private_dir
from streams.process_lock import AlreadyRunningError
from streams.settings import Settings
from streams.topics import all_topics

#: Seconds between the lines saying a worker or sink is still starting. A start has no time
#: limit: a worker first restores its tables from the broker, which takes as long as their
#: history (over 100 s once on a loaded machine), so only an exit ends the wait.
STILL_STARTING_SECONDS = 30.0
#: Seconds each child has to stop on SIGTERM before it is killed. The connectors stop first,
#: then the worker and the sink together, so the whole stop stays under about 30 s.
WORKER_STOP_TIMEOUT_SECONDS = 15.0


def check_port_free(host: str, port: int, setting: str) -> None:
    """Fail at once, naming the setting to change, when a port is taken."""
    if port_in_use(host, port):
        raise AlreadyRunningError(in_use(host, port, setting))


def external_broker_unreachable(url: str, cause: BrokerUnreachableError) -> BrokerUnreachableError:
    """Why ``kawal up`` could not reach the broker: KAWAL_BROKER_URL replaced the embedded one."""
    return BrokerUnreachableError(
        f"KAWAL_BROKER_URL is set ({without_credentials(url)}), so `kawal up` uses that broker "
        f"instead of its embedded one; unset KAWAL_BROKER_URL to run the embedded broker. {cause}"
    )


class Supervisor:
    """Owns the children of ``kawal up`` and stops them in order."""

    def __init__(
        self, settings: Settings, *, ephemeral: bool, prometheus: LocalPrometheus | None = None
    ) -> None:
        self.settings = settings
        self.ephemeral = ephemeral
        self.cluster: EmbeddedCluster | None = None
        self.worker: ChildProcess | None = None
        self.sink: ChildProcess | None = None
        self.connectors: ChildProcess | None = None
        self._connectors_reported = False
        self.prometheus = prometheus  # --monitoring: started once the hub is healthy
        self.stopping = threading.Event()

    def start(self) -> str:
        """Start broker (when embedded), topics, store, worker and sink; return the broker URL.

        Raises:
            EmbeddedBrokerError: broker credentials are set for the embedded broker, which
                authenticates nobody.
        """
        settings = self.settings
        credentials = BrokerCredentials.from_settings(settings)
        if settings.broker_url is None:
            refuse_credentials_for_embedded(credentials)
        private_dir(settings.log_dir)
        check_port_free(settings.web_host, settings.web_port, "KAWAL_WEB_PORT")
        check_port_free(settings.web_host, settings.sink_port, "KAWAL_SINK_PORT")
        if settings.broker_url is None:
            self._check_embedded_ports()
        with meanwhile(lambda: make_local_keys(settings), "keys") as keys:
            broker_url = settings.broker_url or self._start_embedded()
            endpoint = parse_broker_url(broker_url)
            institutions = load_institutions(settings.institutions_file)
            topics = all_topics(institutions, settings.partitions, settings.replication)
            # Through `kawal topics apply`'s code, so each start also corrects configurations.
            try:
                feeds = provision_feeds_later(endpoint.bootstrap, topics, settings, credentials)
            except BrokerUnreachableError as exc:
                if settings.broker_url is None:
                    raise
                raise external_broker_unreachable(settings.broker_url, exc) from exc
            if (lost := lost_vault_warning(settings)) is not None:
                print(f"kawal: warning: {lost}", file=sys.stderr)
            AuditStore(settings.audit_url).create_schema(settings.home)
            keys.result()
        self.worker = self._hub_process("worker", broker_url)
        self.sink = self._hub_process("sink", broker_url)
        self.wait_until_healthy()
        feeds.result()
        if self.prometheus is not None:
            self.prometheus.start()
        return broker_url

    def _hub_process(self, command: str, broker_url: str) -> ChildProcess:
        """Start ``kawal COMMAND`` (worker or sink), logging to ``<command>.log``."""
        child = ChildProcess(
            command,
            [sys.executable, "-m", "streams.cli", command],
            self.settings.log_dir / f"{command}.log",
            env=self._worker_env(broker_url),
        )
        child.start()
        return child

    def hub_processes(self) -> list[tuple[ChildProcess, str]]:
        """The worker and the sink that are started, each with its health URL."""
        settings = self.settings
        ports = [(self.worker, settings.web_port), (self.sink, settings.sink_port)]
        return [
            (child, f"{settings.web_scheme}://{settings.web_host}:{port}/health")
            for child, port in ports
            if child is not None
        ]

    def start_demo_connectors(self, broker_url: str) -> None:
        """Run every reference connector against its simulator (``kawal connector demo``)."""
        self.connectors = ChildProcess(
            "connectors",
            [sys.executable, "-m", "streams.cli", "connector", "demo"],
            self.settings.log_dir / "connectors.log",
            env=self._worker_env(broker_url) | evidence_env(self.cluster),
        )
        self.connectors.start()

    def _check_embedded_ports(self) -> None:
        # Before anything starts: a storage's gRPC port taken would otherwise show only once
        # the keys were made and the storage was on its way.
        settings = self.settings
        check_port_free("127.0.0.1", settings.embedded_broker_port, "KAWAL_EMBEDDED_BROKER_PORT")
        if not self.ephemeral:
            refuse_taken_storage_ports(settings.embedded_storage_port)

    def _start_embedded(self) -> str:
        settings = self.settings
        self.cluster = EmbeddedCluster(
            settings.log_dir,
            data_dir=None if self.ephemeral else settings.broker_dir,
            broker_port=settings.embedded_broker_port,
            storage_port=settings.embedded_storage_port,
        )
        self.cluster.start()
        return self.cluster.url

    def _worker_env(self, broker_url: str) -> dict[str, str]:
        env = dict(os.environ)
        env["KAWAL_BROKER_URL"] = broker_url
        env["KAWAL_HOME"] = str(self.settings.home.resolve())
        env["KAWAL_WEB_PORT"] = str(self.settings.web_port)
        env["KAWAL_SINK_PORT"] = str(self.settings.sink_port)
        env["KAWAL_WEB_HOST"] = self.settings.web_host
        env["KAWAL_PUBLIC_CASES"] = str(self.settings.public_cases).lower()
        env["KAWAL_HISTORY_GRACE_SECONDS"] = str(self.settings.history_grace_seconds)
        if self.settings.portal_url:
            env["KAWAL_PORTAL_URL"] = self.settings.portal_url
        return env

    def wait_until_healthy(self) -> None:
        """Wait for ``GET /health`` of the worker and of the sink to answer 200.

        Every :data:`STILL_STARTING_SECONDS` it says which is still starting, and where its log
        is, until it is healthy, exits, or the hub is asked to stop.

        Raises:
            ChildFailedError: one exited while starting.
        """
        started = time.monotonic()
        for child, health_url in self.hub_processes():
            said = time.monotonic()
            while not self.stopping.is_set():
                if not child.alive:
                    raise ChildFailedError(
                        f"the {child.name} {how_it_exited(child.returncode)} while starting; "
                        f"see {child.log_path}",
                        returncode=child.returncode,
                        log_tail=child.log_tail(),
                    )
                if _healthy(health_url):
                    break
                if time.monotonic() - said >= STILL_STARTING_SECONDS:
                    said = time.monotonic()
                    _say_still_starting(child, said - started)
                time.sleep(0.25)

    def watch(self) -> None:
        """Until asked to stop: restart a crashed worker or sink; give up on a crash loop.

        Each restart comes after a longer wait than the one before (:mod:`.restarts`).
        """
        restarts = Restarts()
        while not self.stopping.wait(1.0):
            if self.cluster is not None and not self.cluster.broker.alive:
                raise self._broker_exited(self.cluster)
            if self.prometheus is not None:
                self.prometheus.keep_alive()
            self._report_connectors_exit()
            for child, _ in self.hub_processes():
                restarts.tend(child)

    def _broker_exited(self, cluster: EmbeddedCluster) -> ChildFailedError:
        # Every process of the hub needs the broker, so the hub stops with it; its records and
        # offsets are kept (unless --ephemeral), so the operator's next step is a new start.
        broker = cluster.broker
        kept = (
            "its records and offsets are kept"
            if broker.is_durable
            else "it kept nothing (--ephemeral)"
        )
        return ChildFailedError(
            f"the embedded broker exited with code {broker.returncode}; the hub stops with it; "
            f"{kept}; see {broker.log_path} (a full or read-only disk under KAWAL_HOME shows "
            "there as Storage errors), then run `kawal up` again",
            returncode=broker.returncode,
            log_tail="",
        )

    def _report_connectors_exit(self) -> None:
        # The demo's connectors are not restarted (a new run would play its case again), but
        # their exit must not go unnoticed while the hub runs on.
        connectors = self.connectors
        if connectors is None or connectors.alive or self._connectors_reported:
            return
        self._connectors_reported = True
        print(
            f"kawal: the demo connectors exited ({connectors.returncode}); the hub runs on "
            f"without them; see {connectors.log_path}",
            file=sys.stderr,
        )

    def stop(self) -> None:
        """Stop Prometheus, the connectors, the worker (it commits), the sink, the broker."""
        if self.prometheus is not None:
            self.prometheus.stop()
        if self.connectors is not None:
            self.connectors.stop(WORKER_STOP_TIMEOUT_SECONDS)
        # The sink resumes from its own commits, so it need not wait for the worker's stop.
        stops = [
            threading.Thread(target=child.stop, args=(WORKER_STOP_TIMEOUT_SECONDS,))
            for child, _ in self.hub_processes()
        ]
        for stop in stops:
            stop.start()
        for stop in stops:
            stop.join()
        if self.cluster is not None:
            self.cluster.stop()


def _say_still_starting(child: ChildProcess, seconds: float) -> None:
    print(
        f"kawal: the {child.name} is still starting after {seconds:.0f} s (a worker first "
        f"restores its tables from the broker: the longer their history, the longer); "
        f"see {child.log_path}; Ctrl-C stops",
        file=sys.stderr,
    )


def _healthy(url: str) -> bool:
    try:
        with open_child_url(url) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def run_up(settings: Settings, *, demo: bool, ephemeral: bool, monitoring: bool = False) -> int:
    """Run the hub until SIGTERM or Ctrl-C; return the exit code."""
    if demo:
        settings = demo_settings(settings)
    portal = demo_portal_runs(settings, demo=demo, ephemeral=ephemeral)
    if portal and "portal_url" not in settings.model_fields_set:
        # The demo's portal is where its public pages send reporters.
        settings = settings.model_copy(update={"portal_url": portal_url() + "/"})
    prometheus = for_hub(settings, connectors=demo) if monitoring else None
    with up_lock(settings.home):
        supervisor = Supervisor(settings, ephemeral=ephemeral, prometheus=prometheus)

        def request_stop(signum: int, _frame: FrameType | None) -> None:
            supervisor.stopping.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        try:
            if demo:
                _check_demo_ports(settings, ephemeral=ephemeral)
            broker_url = supervisor.start()
            _announce(settings, broker_url, prometheus, portal=portal)
            _keep_state(settings, broker_url, prometheus, connectors=False)
            if demo and not supervisor.stopping.is_set():
                credentials = BrokerCredentials.from_settings(settings)
                _announce_demo(publish_demo(settings, broker_url, credentials))
                mix = publish_demo(settings, broker_url, credentials, mix_waves())
                print(f"kawal: published {len(mix)} more demo cases for the dashboard", flush=True)
                supervisor.start_demo_connectors(broker_url)
                _keep_state(settings, broker_url, prometheus, connectors=True)
                if portal:
                    announce_demo_report()
            supervisor.watch()
        finally:
            remove_state(settings.home)
            supervisor.stop()
    print("kawal: stopped", file=sys.stderr)
    return 0


def demo_portal_runs(settings: Settings, *, demo: bool, ephemeral: bool) -> bool:
    """Whether ``kawal up`` runs the demo's reporting portal: it needs the embedded S3 storage."""
    return demo and not ephemeral and settings.broker_url is None


def _check_demo_ports(settings: Settings, *, ephemeral: bool) -> None:
    """Fail before anything starts when a port of the demo's connectors is taken."""
    port = settings.connector_metrics_port
    check_port_free(settings.web_host, port, "KAWAL_CONNECTOR_METRICS_PORT")
    if demo_portal_runs(settings, demo=True, ephemeral=ephemeral):
        check_port_free("127.0.0.1", portal_port(), PORTAL_PORT_SETTING)


def _announce(
    settings: Settings, broker_url: str, prometheus: LocalPrometheus | None, *, portal: bool
) -> None:
    # The pages the README opens, at this hub's ports: a newcomer on other ports finds them here.
    base = f"{settings.web_scheme}://{settings.web_host}:{settings.web_port}"
    lines = {
        "pages": f"{base}/",
        "dashboard": f"{base}/dashboard",
        **({"portal": f"{portal_url()}/"} if portal else {}),
        "broker": broker_url,
        "ready": f"{base}/readyz",
        "metrics": f"{base}/metrics",
        "sink_metrics": f"{settings.web_scheme}://{settings.web_host}:{settings.sink_port}/metrics",
        "home": str(settings.home.resolve()),
        "logs": str(settings.log_dir.resolve()),
    }
    lines |= prometheus.links() if prometheus is not None else {}
    print("kawal: hub is up " + json.dumps(lines), flush=True)


def _keep_state(
    settings: Settings, broker_url: str, prometheus: LocalPrometheus | None, *, connectors: bool
) -> None:
    # Where `kawal status` finds this hub's processes, whatever its own shell's settings.
    url = prometheus.url if prometheus is not None else None
    write_state(
        settings.home, state_of(settings, broker_url, connectors=connectors, prometheus=url)
    )


def _announce_demo(case_ids: list[str]) -> None:
    print(f"kawal: published demo cases {', '.join(case_ids)}", flush=True)
    print(f"kawal: read one with: .venv/bin/kawal case trail {case_ids[0]}", flush=True)
