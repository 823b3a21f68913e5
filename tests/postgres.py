"""A real PostgreSQL server for the tests (Debian's ``postgresql`` package), one per session.

PostgreSQL refuses to run as root; as root the server runs as the ``postgres`` system user.
It listens on a free loopback port with trust authentication and is stopped (and its data
removed) when the session ends.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from streams.local.processes import free_port
from tests.freezing import frozen

START_SECONDS = 30.0


def postgres_bin_dir() -> Path:
    """Directory of the newest installed PostgreSQL server binaries."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError(
            "PostgreSQL server not installed: run `make install` as root "
            "(it runs `apt-get install postgresql`)"
        )
    return Path(found[-1]).parent


class PostgresServer:
    """One throwaway PostgreSQL cluster on loopback."""

    def __init__(self) -> None:
        self.bin_dir = postgres_bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="kawal-pg-"))
        self.data_dir = self.root / "data"
        self.port = free_port()
        self._as_root = os.geteuid() == 0

    def _run(self, *argv: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_root else []
        subprocess.run([*prefix, *argv], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        """Create the cluster and start the server; wait until it accepts connections."""
        if self._as_root:
            shutil.chown(self.root, user="postgres")
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
        )
        self.resume()

    def resume(self) -> None:
        """Start the server on its cluster (again, after :meth:`halt`); wait until it answers."""
        options = f"-p {self.port} -h 127.0.0.1 -k {self.root} -c fsync=off"
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            str(int(START_SECONDS)),
            "start",
        )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                psycopg.connect(self.admin_dsn, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    @property
    def admin_dsn(self) -> str:
        """libpq DSN of the ``postgres`` maintenance database."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def create_database(self, name: str) -> str:
        """Create a database; return its SQLAlchemy URL."""
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def dump(self, database: str) -> bytes:
        """``pg_dump`` of ``database``: its schema and every row, as SQL text."""
        completed = subprocess.run(
            [
                str(self.bin_dir / "pg_dump"),
                f"--dbname=host=127.0.0.1 port={self.port} user=postgres dbname={database}",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return completed.stdout

    def halt(self) -> None:
        """Stop the server at once, as a crash would, its files kept (:meth:`resume` starts it)."""
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop")

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """The server's processes stopped (SIGSTOP) for the ``with``, then resumed.

        As a hung disk or a dropped network path: connections are taken by the kernel and
        queries sent, but nothing is answered and nothing is refused.
        """
        postmaster = int((self.data_dir / "postmaster.pid").read_text().split()[0])
        children = subprocess.run(
            ["pgrep", "-P", str(postmaster)], capture_output=True, text=True, check=False
        ).stdout.split()
        pids = [postmaster, *map(int, children)]
        with frozen(*pids):
            yield

    def stop(self) -> None:
        """Stop the server immediately and remove its files."""
        try:
            self._run(
                str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop"
            )
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
