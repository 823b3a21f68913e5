"""Supervision of the hub's child processes (Linux).

A :class:`ChildProcess` stays in our process group, so Ctrl+C in a terminal reaches it too, and
asks the kernel to SIGKILL it when its parent dies (``PR_SET_PDEATHSIG``): even a ``kill -9`` of
the hub leaves no orphan holding ports or data directories.

The kernel ties the death signal to the *thread* that forked the child, so call
:meth:`ChildProcess.start` from the main thread or another thread that outlives the child
(never from a short-lived executor thread).

Every child runs with umask 077 (:data:`CHILD_UMASK`): what the broker, the storage, the
worker, the sink and the demo's connectors and simulators write under ``KAWAL_HOME`` is the
hub's user's alone, also where a third-party program (tansu, SeaweedFS, Faust) makes the file.
The hub's own code makes its files private explicitly (:mod:`streams.private_files`), so
processes not started by ``kawal up`` are covered too. A child's log is mode 0600.
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import psutil

from schemas.errors import KawalError
from streams.private_files import open_private
from streams.setting_types import BROWSER_REFUSED_PORTS

_PR_SET_PDEATHSIG = 1
#: The umask of every child: files 0600 and folders 0700 unless a program asks for less.
CHILD_UMASK = 0o077
_POLL_INTERVAL = 0.05
_TAIL_BYTES = 64 * 1024
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class ChildFailedError(KawalError):
    """A child process exited, or did not become ready, when it should have been serving."""

    def __init__(self, message: str, *, returncode: int | None, log_tail: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.log_tail = log_tail


#: Ports :func:`free_port` picks, but for those browsers refuse (a page on 5061 cannot be read):
#: below the kernel's ephemeral range (32768 and up), so no outgoing connection takes one
#: between the pick and the server's bind, as one took a demo connector's port when the kernel
#: picked them; below ``kawal up``'s defaults (6066 and up); apart from the storage's blocks
#: (:func:`streams.local.storage.free_storage_base_port`).
PICKED_PORTS = range(2_000, 6_000)
#: Ports in :data:`PICKED_PORTS` that servers machines commonly run use by default, passed
#: over although free now: a demo simulator on PostgreSQL's 5432 keeps a PostgreSQL started
#: later from binding it. ZooKeeper, Docker, etcd, dev servers and Grafana, MySQL, RDP, NATS,
#: Erlang's epmd, Flask and registries, Logstash, PostgreSQL's clusters, Kibana, AMQP, VNC,
#: CouchDB, WinRM.
SERVICE_PORTS = frozenset(
    {2181, 2375, 2376, 2379, 2380, 3000, 3306, 3389, 4222, 4369, 5000, 5044}
    | set(range(5432, 5440))
    | {5601, 5672}
    | set(range(5900, 5911))
    | {5984, 5985, 5986}
)
#: ``LOW-HIGH``: the ports the test suite's pickers hand out, so parallel runs on one machine
#: can be kept apart (:func:`free_port`, and the storage's blocks, whose gRPC ports are 10000
#: above them).
TEST_PORTS_VARIABLE = "KAWAL_TEST_PORTS"


class _PortPicker:
    """Hands out each port of ``ports`` in turn, from an offset of our pid.

    A new port at each call, although the last one may not be bound yet, and apart from
    what another process picking at the same time (a second test process) gets.
    """

    def __init__(self, ports: range) -> None:
        self.ports = ports
        self._next = pid_offset(len(ports))

    def pick(self, host: str, size: int = 1, shifts: tuple[int, ...] = (0,)) -> int:
        """The first of ``size`` consecutive ports free on ``host``, as are those + each shift."""
        for _ in self.ports:
            first = self._next % len(self.ports)
            self._next += 1
            block = self.ports[first : first + size]
            if len(block) == size and not any(
                _unusable(host, port + shift) for port in block for shift in shifts
            ):
                self._next = first + size
                return block[0]
        raise KawalError(
            f"no free port between {self.ports.start} and {self.ports.stop - 1} on {host}; "
            f"stop leftover servers, give the ports explicitly or widen {TEST_PORTS_VARIABLE}"
        )


def _unusable(host: str, port: int) -> bool:
    return port in BROWSER_REFUSED_PORTS or port in SERVICE_PORTS or port_in_use(host, port)


def pid_offset(span: int) -> int:
    """Where this process starts a search among ``span`` ports.

    Derived from the pid (times a prime, to spread neighbouring pids), so that processes
    searching at the same time, such as parallel test workers, rarely try the same port.
    """
    return (os.getpid() * 7919) % span


def ports_for_tests(env: Mapping[str, str] = os.environ) -> range | None:
    """The ports ``KAWAL_TEST_PORTS`` (``LOW-HIGH``, both included) keeps the pickers to.

    Raises:
        KawalError: the variable is set but is not two ports, the first the lower.
    """
    text = env.get(TEST_PORTS_VARIABLE, "").strip()
    if not text:
        return None
    low, _, high = text.partition("-")
    if not (low.strip().isdigit() and high.strip().isdigit()):
        raise KawalError(_TEST_PORTS_FORMAT)
    ports = range(int(low), int(high) + 1)
    if not 1024 <= ports.start < ports.stop <= 65536:
        raise KawalError(_TEST_PORTS_FORMAT)
    return ports


_TEST_PORTS_FORMAT = (
    f"{TEST_PORTS_VARIABLE} takes LOW-HIGH, two ports from 1024 to 65535 with LOW not above "
    "HIGH, e.g. 30200-30299"
)
_pickers: dict[range, _PortPicker] = {}


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port free on ``host`` now, none of the last few thousand calls returned.

    From ``KAWAL_TEST_PORTS`` if set, else from :data:`PICKED_PORTS`.
    """
    return free_port_block(1, host=host)


def free_port_block(size: int, *, shifts: tuple[int, ...] = (0,), host: str = "127.0.0.1") -> int:
    """The first of ``size`` consecutive ports free now, as are those ports + each of ``shifts``.

    Handed out by the same turn as :func:`free_port`, so neither returns the other's ports
    until the range has gone round.
    """
    ports = ports_for_tests() or PICKED_PORTS
    picker = _pickers.setdefault(ports, _PortPicker(ports))
    return picker.pick(host, size, shifts)


def port_in_use(host: str, port: int) -> bool:
    """Tell whether a server could not bind ``host:port`` now.

    ``SO_REUSEADDR`` mirrors what Go and Rust servers set, so sockets of a killed process left
    in TIME_WAIT do not count as "in use" (they would not stop the server from binding).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
        return False


@functools.cache
def _prctl() -> Callable[..., int]:
    # Resolved in the parent: loading a library between fork and exec is not safe.
    prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    return prctl


def _prepare_child(parent_pid: int) -> Callable[[], None]:
    prctl = _prctl()

    def preexec() -> None:
        # Whatever the child writes (the broker's segments, Faust's tables, SQLite files, the
        # simulators' records) is for the hub's user alone, whichever program writes it.
        os.umask(CHILD_UMASK)
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        # The parent may have died before prctl ran; then no signal would ever come.
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


class ChildProcess:
    """One supervised child process whose output is appended to a log file.

    Args:
        name: Short name used in messages (e.g. ``"tansu"``).
        argv: Program and arguments.
        log_path: File that receives stdout and stderr (appended; mode 0600, in a 0700 folder).
        env: Complete environment of the child; ``None`` inherits ours.
        cwd: Working directory of the child; ``None`` keeps ours.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """Process id of the last start, or ``None`` if never started."""
        return self._popen.pid if self._popen is not None else None

    @property
    def alive(self) -> bool:
        """True while the child runs."""
        return self._popen is not None and self._popen.poll() is None

    @property
    def returncode(self) -> int | None:
        """Exit code once the child has exited (negative: killed by that signal)."""
        return self._popen.poll() if self._popen is not None else None

    def start(self) -> None:
        """Start the child; a previous, exited run is reaped first.

        Raises:
            ChildFailedError: the child is already running, or the program cannot be executed.
        """
        if self.alive:
            raise ChildFailedError(
                f"{self.name} is already running (pid {self.pid}); stop it before starting again",
                returncode=None,
                log_tail="",
            )
        # Mode 0600: a child's log may quote what it was handling when it failed.
        with os.fdopen(open_private(self.log_path, os.O_WRONLY | os.O_APPEND), "ab") as log:
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            log.write(f"--- {stamp} starting {self.name}: {' '.join(self.argv)}\n".encode())
            log.flush()
            try:
                self._popen = subprocess.Popen(
                    self.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                    cwd=self.cwd,
                    close_fds=True,
                    preexec_fn=_prepare_child(os.getpid()),
                    # Its own group: a terminal's Ctrl-C reaches the supervisor alone, which
                    # stops the children in order (the broker last), not all of them at once.
                    process_group=0,
                )
            except OSError as exc:
                raise ChildFailedError(
                    f"cannot execute {self.name} ({self.argv[0]}): {exc}; "
                    "check the binary exists and is executable (run make install)",
                    returncode=None,
                    log_tail="",
                ) from exc

    def wait_for_port(self, host: str, port: int, timeout: float = 10.0) -> None:
        """Wait until the child (or one of its own) listens on ``host:port`` and accepts there.

        Whose socket it is matters: a server that fails to bind a port another process took
        in the meantime lives on a moment, and that other process's port would answer for it.

        Raises:
            ChildFailedError: the child exited first, or the port did not open in time; the
                message carries the exit code and the last lines of the log.
        """
        deadline = time.monotonic() + timeout
        while True:
            self._raise_if_exited(f"before listening on {host}:{port}")
            if self._listens(port) and _accepts(host, port) and self.alive:
                return
            if time.monotonic() >= deadline:
                raise self._failure(
                    f"{self.name} did not listen on {host}:{port} within {timeout:g} s"
                )
            time.sleep(_POLL_INTERVAL)

    def _listens(self, port: int) -> bool:
        """Tell whether the child or a process it started holds a socket listening on ``port``."""
        if self._popen is None:
            return False
        try:
            child = psutil.Process(self._popen.pid)
            family = [child, *child.children(recursive=True)]
            return any(_listening_on(process, port) for process in family)
        except psutil.Error:  # exited meanwhile: the next look reports it
            return False

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop the child: SIGTERM, then SIGKILL after ``timeout`` seconds; always reaps it.

        Returns:
            The exit code, or ``None`` if the child was never started.
        """
        if self._popen is None:
            return None
        if self._popen.poll() is None:
            self._popen.terminate()
            try:
                return self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self._popen.kill()
        return self._popen.wait()

    def log_tail(self, lines: int = 20) -> str:
        """Return the last ``lines`` lines of the log, without terminal colour codes."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(max(0, log.seek(0, os.SEEK_END) - _TAIL_BYTES))
                data = log.read()
        except FileNotFoundError:
            return ""
        text = _ANSI_ESCAPE.sub("", data.decode("utf-8", errors="replace"))
        return "\n".join(text.splitlines()[-lines:])

    def _raise_if_exited(self, when: str) -> None:
        code = self.returncode
        if code is not None:
            raise self._failure(f"{self.name} exited with code {code} {when}")

    def _failure(self, what: str) -> ChildFailedError:
        tail = self.log_tail()
        return ChildFailedError(
            f"{what}. Last lines of {self.log_path}:\n{tail}",
            returncode=self.returncode,
            log_tail=tail,
        )


def _listening_on(process: psutil.Process, port: int) -> bool:
    return any(
        connection.status == psutil.CONN_LISTEN and connection.laddr.port == port
        for connection in process.net_connections(kind="tcp")
    )


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False
