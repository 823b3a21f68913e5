"""Which Kawal hub holds a port that ``kawal up`` needs, and how to free it.

On a machine several people share, a second ``kawal up`` on the ports of a running one was
told only that the port was taken. When the holder is a process of a Kawal hub (its worker,
its sink, the broker or storage ``kawal up`` runs, or ``kawal up`` itself), its title
(:mod:`streams.process_title`), or that of the ``kawal up`` above it, names the home: the
refusal then says which hub runs there and how to stop it. psutil finds the holder's pid;
the kernel shows it only for the processes of the same user (or to root), so a hub of
another user stays unnamed, as does any other program.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psutil

from streams.process_title import read_title

#: Addresses a listener on every interface binds, which hold a port on loopback too.
_ANY_ADDRESS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - compared with, never bound


@dataclass(frozen=True)
class HubProcess:
    """The outermost Kawal process above a port's holder: stopping it frees the port."""

    pid: int
    command: str
    home: Path

    def described(self) -> str:
        """Who holds the port and what to do, as a refusal's clause."""
        return (
            f"by the Kawal hub of KAWAL_HOME={self.home} (`kawal {self.command}`, pid "
            f"{self.pid}); stop it (Ctrl-C where it runs, or `kill {self.pid}`: it stops "
            f"cleanly, with what it started)"
        )


def hub_holding(host: str, port: int) -> HubProcess | None:
    """The Kawal process listening on ``host:port``, or above its listener; None if none is."""
    found = None
    for process in _lineage(_listener(host, port)):
        named = read_title(_title_of(process))
        if found is not None and (named is None or named[1] != found.home):
            break  # above the hub: a shell, or whatever started it
        if named is not None:
            found = HubProcess(process.pid, *named)
    return found


def in_use(host: str, port: int, setting: str) -> str:
    """Why ``port`` on ``host`` cannot be taken, and what to do, naming the hub holding it."""
    hub = hub_holding(host, port)
    if hub is None:
        return (
            f"port {port} on {host} is already in use; stop the process holding it "
            f"(ss -ltnp 'sport = :{port}') or set {setting} to a free port"
        )
    return (
        f"port {port} on {host} is already in use {hub.described()}, or set {setting} "
        "to a free port"
    )


def _listener(host: str, port: int) -> int | None:
    try:
        connections = psutil.net_connections(kind="inet")
    except psutil.Error:
        return None
    for connection in connections:
        if (
            connection.status == psutil.CONN_LISTEN
            and connection.laddr
            and connection.laddr.port == port
            and connection.laddr.ip in {host} | _ANY_ADDRESS
        ):
            return connection.pid
    return None


def _lineage(pid: int | None) -> list[psutil.Process]:
    """The process ``pid`` and its parents, nearest first."""
    if pid is None:
        return []
    try:
        process = psutil.Process(pid)
        return [process, *process.parents()]
    except psutil.Error:  # gone meanwhile
        return []


def _title_of(process: psutil.Process) -> str:
    try:
        # A retitled process has one argument; psutil splits it at its spaces.
        return " ".join(process.cmdline())
    except psutil.Error:  # gone meanwhile, or another user's
        return ""
