"""One worker and one sink per home; ``kawal up`` holds the home; other homes never meet."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from streams.home_locks import holders, role_lock, up_lock
from streams.process_lock import AlreadyRunningError, lock_holder


def test_a_second_worker_on_a_home_is_refused_with_the_pid_of_the_first(tmp_path: Path) -> None:
    with role_lock(tmp_path, "worker"):
        with pytest.raises(AlreadyRunningError) as refused, role_lock(tmp_path, "worker"):
            pass
        assert str(refused.value) == (
            f"a Kawal worker is already running on KAWAL_HOME={tmp_path.resolve()} "
            f"(pid {os.getpid()}); stop it first, or set another KAWAL_HOME"
        )
        assert holders(tmp_path) == {"worker": str(os.getpid())}
    # Released with its holder: the next one runs.
    with role_lock(tmp_path, "worker"):
        pass
    assert holders(tmp_path) == {}


def test_a_worker_and_a_sink_share_a_home_and_workers_on_other_homes_run(tmp_path: Path) -> None:
    home, other = tmp_path / "a", tmp_path / "b"
    with role_lock(home, "worker"), role_lock(home, "sink"), role_lock(other, "worker"):
        assert set(holders(home)) == {"worker", "sink"}
        assert set(holders(other)) == {"worker"}


def test_a_worker_on_the_home_of_a_kawal_up_it_is_no_child_of_is_refused(tmp_path: Path) -> None:
    # This process holds `kawal up`'s lock; a process it did not start asks for the worker's.
    with up_lock(tmp_path):
        asked = subprocess.run(
            [sys.executable, "-c", _ASK, str(tmp_path)], capture_output=True, text=True, check=False
        )
        assert asked.returncode == 0, asked.stderr  # a child of the holder: kawal up's worker
        # Through a shell: the holder's grandchild, as a worker started by hand is no child.
        refused = subprocess.run(
            ["/bin/sh", "-c", f'"{sys.executable}" -c "$0" "$1"; true', _ASK, str(tmp_path)],
            capture_output=True,
            text=True,
            check=False,
        )
    assert (
        f"Kawal is already running on KAWAL_HOME={tmp_path.resolve()} (pid {os.getpid()}); "
        "stop it first, or set another KAWAL_HOME"
    ) in refused.stderr


_ASK = (
    "import sys; from pathlib import Path; from streams.home_locks import role_lock\n"
    "with role_lock(Path(sys.argv[1]), 'worker'): pass"
)


def test_kawal_up_is_refused_on_a_home_where_a_worker_runs_by_hand(tmp_path: Path) -> None:
    refusal = r"a Kawal sink is already running on"
    with (
        role_lock(tmp_path, "sink"),
        pytest.raises(AlreadyRunningError, match=refusal),
        up_lock(tmp_path),
    ):
        pass
    assert lock_holder(tmp_path / "kawal.lock") is None


def test_asking_who_holds_a_lock_makes_no_file(tmp_path: Path) -> None:
    assert holders(tmp_path / "nothing") == {}
    assert not (tmp_path / "nothing").exists()
