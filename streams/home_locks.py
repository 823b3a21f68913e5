"""Who runs on a ``KAWAL_HOME``: the locks of ``kawal up``, of its worker and of its sink.

A home holds one worker's case tables (RocksDB, one database per partition) and one sink's:
a second worker on it waited for RocksDB's lock of each partition, crashed, and made the
running worker's group rebalance on its way. So each process takes its role's lock on the
home before it opens a table or joins its group, and ``kawal up`` holds the home's own lock
for as long as it runs. Workers on different homes (one per pod on Kubernetes) never meet.

| file | held by |
|---|---|
| ``KAWAL_HOME/kawal.lock`` | ``kawal up`` |
| ``KAWAL_HOME/worker.lock`` | the worker of that home (``kawal worker``, or that of ``kawal up``) |
| ``KAWAL_HOME/sink.lock`` | the audit sink of that home |

Each file holds its holder's pid; the kernel releases a lock when its process dies, however
it dies.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from streams.private_files import private_dir
from streams.process_lock import AlreadyRunningError, held_lock, lock_holder

#: The lock ``kawal up`` holds on its home.
UP_LOCK = "kawal.lock"
#: The roles that run one process per home, each with its lock file ``<role>.lock``.
ROLES = ("worker", "sink")
_WHAT_TO_DO = "stop it first, or set another KAWAL_HOME"


def up_refusal(home: Path, pid: str) -> str:
    """What a second ``kawal up``, worker or sink is told while ``kawal up`` runs on ``home``."""
    return f"Kawal is already running on KAWAL_HOME={home.resolve()} (pid {pid}); {_WHAT_TO_DO}"


def role_refusal(home: Path, role: str, pid: str) -> str:
    """What is told while a ``role`` process of its own runs on ``home`` (pid ``pid``)."""
    return (
        f"a Kawal {role} is already running on KAWAL_HOME={home.resolve()} (pid {pid}); "
        f"{_WHAT_TO_DO}"
    )


@contextmanager
def up_lock(home: Path) -> Iterator[None]:
    """Hold ``kawal up``'s lock on ``home`` while inside; a worker or sink of its own refuses.

    Raises:
        AlreadyRunningError: another ``kawal up``, or a worker or sink started by hand, runs on
            ``home``.
    """
    # The home holds the audit store, the vault, keys and logs: nobody else may list or open it.
    private_dir(home)
    with held_lock(home / UP_LOCK, lambda owner: up_refusal(home, owner)):
        for role in ROLES:
            if (pid := lock_holder(home / f"{role}.lock")) is not None:
                raise AlreadyRunningError(role_refusal(home, role, pid))
        yield


@contextmanager
def role_lock(home: Path, role: str) -> Iterator[None]:
    """Hold ``role``'s lock on ``home`` while inside, or refuse at once.

    The worker and the sink that ``kawal up`` starts are its children: its own lock does not
    refuse them. Any other process is refused while ``kawal up`` runs on ``home``, also in
    the moment between a crash of its worker and the restart.

    Raises:
        AlreadyRunningError: ``kawal up``, or a ``role`` process of its own, runs on ``home``,
            with its pid and what to do.
    """
    up = lock_holder(home / UP_LOCK)
    if up is not None and up != str(os.getppid()):
        raise AlreadyRunningError(up_refusal(home, up))
    private_dir(home)
    with held_lock(home / f"{role}.lock", lambda owner: role_refusal(home, role, owner)):
        yield


def holders(home: Path) -> dict[str, str]:
    """The pid of each process holding a lock on ``home``: ``up``, ``worker``, ``sink``."""
    files = {"up": UP_LOCK} | {role: f"{role}.lock" for role in ROLES}
    found = {name: lock_holder(home / file) for name, file in files.items()}
    return {name: pid for name, pid in found.items() if pid is not None}
