"""Two hubs on one machine: ``ps`` tells their processes apart, and a port taken names its hub.

A real ``kawal up`` runs on one home; its processes' titles (``/proc/PID/cmdline``, what
``ps`` shows) name their command and that home. A second ``kawal up`` on another home, given
the same ports, is refused naming the home that holds them and how to stop it: before, it
said only that the port was taken ("another Kawal?").
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.local.processes import free_port
from streams.local.storage import free_storage_base_port
from tests.hubtools import UpProcess, start_up, up_env
from tests.in_process import kawal_here

pytestmark = pytest.mark.slow


def title_of(pid: int) -> str:
    """What ``ps -o args`` shows of ``pid``: its command line up to the first NUL."""
    return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpProcess]:
    """A ``kawal up --ephemeral`` running on a home of its own until the module ends."""
    home = tmp_path_factory.mktemp("first") / "home"
    env = up_env(home, free_port(), free_port(), free_storage_base_port())
    up = start_up(home, env, "--ephemeral")
    try:
        up.wait_healthy()
        yield up
    finally:
        up.stop(60)


def test_ps_shows_each_process_of_the_hub_with_its_home(first: UpProcess) -> None:
    home = first.home.resolve()
    children = {title_of(pid) for pid in first.children()}

    assert title_of(first.process.pid) == f"kawal up --ephemeral home={home}"
    assert f"kawal worker home={home}" in children
    assert f"kawal sink home={home}" in children


def test_a_second_hub_on_the_same_ports_is_told_which_home_holds_them(
    first: UpProcess, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    env = up_env(other, first.web_port, first.broker_port, free_storage_base_port())
    env["KAWAL_SINK_PORT"] = str(first.sink_port)

    result = kawal_here(env, "up", "--ephemeral")

    assert result.returncode == 1
    said = result.stderr
    assert f"port {first.web_port} on 127.0.0.1 is already in use by the Kawal hub of " in said
    assert f"KAWAL_HOME={first.home.resolve()} (`kawal up --ephemeral`, " in said
    assert f"pid {first.process.pid}); stop it" in said
    assert f"`kill {first.process.pid}`" in said
    assert "or set KAWAL_WEB_PORT to a free port" in said
    assert not (other / "logs" / "worker.log").exists()  # refused before anything started


def test_a_broker_port_held_by_a_hubs_broker_names_that_hub(
    first: UpProcess, tmp_path: Path
) -> None:
    # The holder is tansu, which kawal up started: the hub is found above it.
    env = up_env(tmp_path / "other", free_port(), first.broker_port, free_storage_base_port())

    result = kawal_here(env, "up", "--ephemeral")

    assert result.returncode == 1
    assert f"port {first.broker_port} on 127.0.0.1 is already in use by the Kawal hub " in (
        result.stderr
    )
    assert f"KAWAL_HOME={first.home.resolve()}" in result.stderr
    assert "or set KAWAL_EMBEDDED_BROKER_PORT to a free port" in result.stderr


def test_a_port_held_by_another_program_says_how_to_find_it(tmp_path: Path) -> None:
    with socket.socket() as holder:
        # Any port the kernel gives: the test's own, held by no Kawal process.
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = up_env(tmp_path / "home", port, free_port(), free_storage_base_port())
        # In a process of its own: run here, `kawal up` would title the holder, this process.
        result = subprocess.run(
            [sys.executable, "-m", "streams.cli", "up", "--ephemeral"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert result.returncode == 1
    # The test's own process holds it: no Kawal hub, so none is named.
    assert "Kawal hub" not in result.stderr
    assert f"stop the process holding it (ss -ltnp 'sport = :{port}')" in result.stderr
    assert "set KAWAL_WEB_PORT to a free port" in result.stderr
