"""Temporary files of key writes left by a killed process are removed by the next writer.

A real process is killed (SIGKILL) in the middle of ``kawal keys new``'s write, between
writing the temporary file and linking it into place: its ``.partial`` stays in the keys
folder. ``kawal keys init`` (which ``kawal up`` runs) and ``kawal keys new`` remove such
leftovers of writers that are gone, and log it; a live writer's, another program's file and
the keys themselves are left alone.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path
from unittest.mock import patch

import pytest

from streams.cli import main
from streams.domain.institutions import HUB_INSTITUTION
from streams.partial_files import STALE_SECONDS, remove_stale_partials

#: A ``kawal keys new kawal`` killed after writing its temporary file, before linking it.
KILLED_WRITE = """
import os, signal, sys
from unittest.mock import patch
from streams.cli import main

def killed(descriptor):
    os.kill(os.getpid(), signal.SIGKILL)

with patch("os.fsync", killed):
    main(["keys", "new", "kawal", "--use", "signing"])
"""


def killed_write(home: Path) -> Path:
    """Run a key write killed halfway on ``home``; the temporary file it left."""
    env = dict(os.environ, KAWAL_HOME=str(home))
    done = subprocess.run([sys.executable, "-c", KILLED_WRITE], env=env, check=False)
    assert done.returncode == -signal.SIGKILL
    [left] = (home / "keys" / HUB_INSTITUTION).glob(".*.partial")
    return left


def kawal(home: Path, *args: str) -> int:
    """``kawal ARGS`` on ``home``, in this process."""
    with patch.dict(os.environ, {"KAWAL_HOME": str(home)}), redirect_stdout(io.StringIO()):
        return main(list(args))


def test_a_leftover_of_a_killed_key_write_is_removed_by_keys_init_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = tmp_path / "home"
    assert kawal(home, "keys", "init") == 0
    keys_before = sorted((home / "keys" / HUB_INSTITUTION).glob("*.pem"))
    left = killed_write(home)
    assert left.name.split(".")[-3].isdigit()  # the killed writer's pid

    with caplog.at_level(logging.WARNING, logger="streams.partial_files"):
        assert kawal(home, "keys", "init") == 0

    assert not left.exists()
    assert sorted((home / "keys" / HUB_INSTITUTION).glob("*.pem")) == keys_before
    [said] = [r.getMessage() for r in caplog.records]
    assert said.startswith(f"removed {left}, left by a write that was interrupted: its writer")
    assert "is gone" in said


def test_keys_new_removes_a_leftover_before_it_writes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = tmp_path / "home"
    assert kawal(home, "keys", "init") == 0
    left = killed_write(home)

    with caplog.at_level(logging.WARNING, logger="streams.partial_files"):
        assert kawal(home, "keys", "new", HUB_INSTITUTION, "--use", "signing") == 0

    assert not left.exists()
    assert any(str(left) in r.getMessage() for r in caplog.records)


def test_a_live_writer_s_file_and_other_programs_files_are_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "keys" / HUB_INSTITUTION
    folder.mkdir(parents=True)
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        writing = folder / f".ab.pem.{writer.pid}.0123456789ab.partial"
        mine = folder / f".cd.pem.{os.getpid()}.0123456789ab.partial"
        other = folder / "kek.toml.partial"  # not the name of a whole write of ours
        unnamed_fresh = folder / ".ef.pem.0123456789ab.partial"  # an older release's name
        unnamed_old = folder / ".gh.pem.0123456789ab.partial"
        for path in (writing, mine, other, unnamed_fresh, unnamed_old):
            path.write_bytes(b"")
        long_ago = time.time() - STALE_SECONDS - 60
        os.utime(unnamed_old, (long_ago, long_ago))

        assert remove_stale_partials(folder) == [unnamed_old]

        assert all(p.exists() for p in (writing, mine, other, unnamed_fresh))
        # Past any write's length, even a live pid's file is a leftover (the pid was reused).
        later = time.time() + STALE_SECONDS + 60
        assert remove_stale_partials(folder, now=later) == sorted([writing, mine, unnamed_fresh])
        assert other.exists()
    finally:
        writer.kill()
        writer.wait()


def test_a_missing_folder_holds_no_leftover(tmp_path: Path) -> None:
    assert remove_stale_partials(tmp_path / "none") == []
