"""The embedded broker's durable storage: SeaweedFS ``weed mini`` serving one S3 bucket.

tansu's only durable storage in this build is S3; everything listens on loopback only.
"""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from streams.local.children import (
    HOST,
    EmbeddedBrokerError,
    OwnsChild,
    PortInUseError,
    child_env,
    find_weed,
    http_ok,
    refuse_if_running,
    start_child,
)
from streams.local.port_holders import in_use
from streams.local.processes import (
    ChildFailedError,
    ChildProcess,
    free_port_block,
    pid_offset,
    port_in_use,
    ports_for_tests,
)
from streams.private_files import private_dir

DEFAULT_STORAGE_PORT = 8333
STORAGE_PORT_SETTING = "KAWAL_EMBEDDED_STORAGE_PORT"
#: SeaweedFS serves gRPC on every HTTP port + 10000.
GRPC_PORT_OFFSET = 10_000
#: Offsets from the storage base port; S3 on the base itself.
STORAGE_PORT_OFFSETS = {"s3": 0, "master": 1, "volume": 2, "filer": 3, "admin": 4}
#: Linux hands out client ports from 32768; storage ports stay below so clients never take them.
_EPHEMERAL_PORTS_START = 32768
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_UNIX_SOCKET_PATH_MAX = 107


def free_storage_base_port() -> int:
    """Return a base port whose five storage ports and their gRPC ports are all free now.

    The search starts at an offset derived from our pid, so concurrent test runs rarely race.
    With ``KAWAL_TEST_PORTS`` set, the five ports are handed out of that range by the turn of
    :func:`~streams.local.processes.free_port`, and their gRPC ports are those + 10000.
    """
    if ports_for_tests() is not None:
        size = len(STORAGE_PORT_OFFSETS)
        return free_port_block(size, shifts=(0, GRPC_PORT_OFFSET), host=HOST)
    low, high = 10_000, _EPHEMERAL_PORTS_START - GRPC_PORT_OFFSET - len(STORAGE_PORT_OFFSETS)
    span = (high - low) // 5
    first = pid_offset(span)
    for step in range(span):
        base = low + 5 * ((first + step) % span)
        if not any(port_in_use(HOST, port) for _, port in _storage_ports(base)):
            return base
    raise PortInUseError(
        f"no free block of storage ports between {low} and {high}; stop leftover SeaweedFS "
        f"processes or pass an explicit base port ({STORAGE_PORT_SETTING})"
    )


class EmbeddedStorage(OwnsChild):
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

    def s3_env(self, name: str) -> dict[str, str]:
        """The S3 URL and credentials as ``name``, ``name_ACCESS_KEY``, ``name_SECRET_KEY``."""
        values = (self.s3_endpoint, self.access_key, self.secret_key)
        return dict(zip((name, f"{name}_ACCESS_KEY", f"{name}_SECRET_KEY"), values, strict=True))

    def start(self) -> None:
        """Start ``weed mini`` and wait until the bucket is served.

        Raises:
            PortInUseError: one of the ten ports is taken.
            BinaryNotFoundError: ``weed`` is not installed.
            EmbeddedBrokerError: already running, or ``weed`` exited or did not get ready in time.
        """
        refuse_if_running(self._child, "storage")
        refuse_taken_storage_ports(self.base_port)
        private_dir(self.data_dir)  # the broker's segments: every topic's records
        self._child.argv = self._argv(find_weed())
        self._child.env = child_env(
            AWS_ACCESS_KEY_ID=self.access_key, AWS_SECRET_ACCESS_KEY=self.secret_key
        )
        start_child(self._child, "storage")
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
            # Resuming its Raft state, a single master elects itself with a 1 ms election
            # timeout, and its leader loop keeps ticking at that rate for good: about 2,400
            # wake-ups a second, most of the hub's CPU at rest after any restart. Not resuming
            # is `weed master`'s default: the volume server reports its volumes again, and the
            # rest of that state (a topology id) is nothing the hub uses.
            "-master.resumeState=false",
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
        while not http_ok(request):
            if not self._child.alive or time.monotonic() >= deadline:
                raise EmbeddedBrokerError(
                    f"embedded storage did not serve bucket {self.bucket!r} at {url} within "
                    f"{self.start_timeout:g} s (exit code {self._child.returncode}). "
                    f"Last lines of {self.log_path}:\n{self._child.log_tail()}"
                )
            time.sleep(0.05)


def refuse_taken_storage_ports(base: int) -> None:
    """Fail, naming the setting and both blocks of ports, when one the storage needs is taken.

    Raises:
        PortInUseError: one of base..base+4 or base+10000..base+10004 is taken.
    """
    for role, port in _storage_ports(base):
        if port_in_use(HOST, port):
            raise PortInUseError(
                f"SeaweedFS {role}: {in_use(HOST, port, STORAGE_PORT_SETTING)} (storage uses "
                f"base..base+4 and base+{GRPC_PORT_OFFSET}..base+{GRPC_PORT_OFFSET + 4})"
            )


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
