"""The embedded broker authenticates nobody, so it and its storage listen on loopback only.

tansu 0.6.0 can neither authenticate a client nor speak TLS (``tests/broker/test_tansu_auth.py``,
``docs/broker-security.md``): the only protection of the embedded broker is that nothing but
this machine can reach it. Listening sockets are read from ``/proc``, per process.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import pytest

from streams.cli import main
from streams.cli.exits import EXIT_ERROR
from streams.local.embedded import EmbeddedBroker
from streams.local.processes import free_port
from streams.local.storage import EmbeddedStorage, free_storage_base_port

#: State of a listening socket in /proc/net/tcp and tcp6.
LISTEN = "0A"


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().as_posix()
        except FileNotFoundError:
            continue  # closed while we looked
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _address(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    raw = bytes.fromhex(hex_address)
    # The kernel prints each 32-bit word of the address in host (little-endian) order.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return ipaddress.ip_address(socket.inet_ntop(family, words))


def listening(pid: int) -> list[tuple[str, int]]:
    """``(address, port)`` of every TCP socket the process ``pid`` listens on."""
    inodes = _socket_inodes(pid)
    found = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == LISTEN and inode in inodes:
                address, port = local.split(":")
                found.append((str(_address(address)), int(port, 16)))
    return found


def test_the_embedded_broker_listens_on_127_0_0_1_only(tmp_path: Path) -> None:
    broker = EmbeddedBroker.ephemeral(tmp_path / "logs", port=free_port())
    broker.start()
    try:
        assert broker.pid is not None
        sockets = listening(broker.pid)
    finally:
        broker.stop()

    assert sockets == [("127.0.0.1", broker.port)]


@pytest.mark.slow
def test_the_embedded_storage_listens_on_127_0_0_1_only(tmp_path: Path) -> None:
    storage = EmbeddedStorage(
        tmp_path / "data", tmp_path / "logs", base_port=free_storage_base_port()
    )
    storage.start()
    try:
        assert storage.pid is not None
        sockets = listening(storage.pid)
    finally:
        storage.stop()

    assert sockets
    assert {address for address, _ in sockets} == {"127.0.0.1"}


def test_kawal_up_refuses_broker_credentials_for_the_embedded_broker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    password = "never-Printed-5ecret"
    for name, value in {
        "HOME": str(tmp_path / "home"),
        "SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "USERNAME": "kawal",
        "PASSWORD": password,
    }.items():
        monkeypatch.setenv(f"KAWAL_{name}" if name == "HOME" else f"KAWAL_BROKER_{name}", value)
    monkeypatch.delenv("KAWAL_BROKER_URL", raising=False)

    code = main(["up", "--ephemeral"])

    err = capsys.readouterr().err
    assert code == EXIT_ERROR
    assert "KAWAL_BROKER_SECURITY_PROTOCOL=SASL_PLAINTEXT, but the embedded broker" in err
    assert password not in err
    assert not (tmp_path / "home" / "logs").exists()  # nothing was started
