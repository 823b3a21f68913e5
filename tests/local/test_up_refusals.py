"""`kawal up` refuses at once, naming what to change, when a port or the broker is not usable."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from streams.local.processes import free_port, port_in_use
from streams.local.storage import GRPC_PORT_OFFSET, free_storage_base_port
from tests.hubtools import up_env
from tests.in_process import kawal_here

pytestmark = pytest.mark.slow


@contextmanager
def held(port: int) -> Iterator[None]:
    """``port`` listened on by this process, as another program would hold it."""
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", port))
        holder.listen()
        yield


def up(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``kawal up ARGS`` run to its end in a process of its own.

    For a refusal on reaching a broker: kafka-python leaves the sockets of a client that gave
    up to the garbage collector, which would report them in whichever test runs next here.
    """
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", "up", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_a_taken_grpc_port_of_the_storage_is_refused_before_anything_starts(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    base = free_storage_base_port()
    env = up_env(home, free_port(), free_port(), base)
    with held(base + GRPC_PORT_OFFSET + 2):
        result = kawal_here(env, "up")

    assert result.returncode == 1
    assert "KAWAL_EMBEDDED_STORAGE_PORT" in result.stderr
    assert f"base+{GRPC_PORT_OFFSET}..base+{GRPC_PORT_OFFSET + 4}" in result.stderr
    assert not (home / "keys").exists()  # refused before the keys were made
    assert not (home / "logs" / "seaweedfs.log").exists()


def test_a_taken_port_of_the_demo_portal_is_refused_before_anything_starts(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    env = up_env(home, free_port(), free_port(), free_storage_base_port())
    with held(int(env["KAWAL_LAPOR_PORT"])):
        result = kawal_here(env, "up", "--demo")

    assert result.returncode == 1
    assert "set KAWAL_LAPOR_PORT to a free port" in result.stderr
    assert not (home / "keys").exists()
    assert not (home / "logs" / "seaweedfs.log").exists()


def test_an_unreachable_broker_of_kawal_broker_url_says_it_replaced_the_embedded_one(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    env = up_env(home, free_port(), free_port(), free_storage_base_port())
    nobody = free_port()
    assert not port_in_use("127.0.0.1", nobody)
    env["KAWAL_BROKER_URL"] = f"kafka://127.0.0.1:{nobody}"
    env["KAWAL_BROKER_WAIT_SECONDS"] = "1"
    result = up(env)

    assert result.returncode == 1
    assert f"KAWAL_BROKER_URL is set (kafka://127.0.0.1:{nobody})" in result.stderr
    assert "instead of its embedded one" in result.stderr
    assert "unset KAWAL_BROKER_URL to run the embedded broker" in result.stderr
    # As every command, it waited as long as KAWAL_BROKER_WAIT_SECONDS says, not 30 s.
    assert "within 1 s to create or configure topics" in result.stderr


def test_a_broker_url_holding_a_password_is_refused_without_showing_it(tmp_path: Path) -> None:
    env = up_env(tmp_path / "home", free_port(), free_port(), free_storage_base_port())
    env["KAWAL_BROKER_URL"] = f"kafka://kawal:s3cret@127.0.0.1:{free_port()}"
    result = kawal_here(env, "up")

    assert result.returncode == 1
    assert "KAWAL_BROKER_PASSWORD" in result.stderr
    assert "s3cret" not in result.stderr
    # The keys begun meanwhile are made before the refusal, which is the command's last word.
    assert result.stderr.index(" keys in ") < result.stderr.index("KAWAL_BROKER_PASSWORD")
