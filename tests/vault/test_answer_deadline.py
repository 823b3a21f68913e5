"""The vault's readers and eraser give up on a frozen database instead of waiting with it.

Real PostgreSQL of its own, frozen (its processes stopped): a call on a connection the pool
holds waited until it thawed. Through :class:`BoundedVault` each call raises ``VaultError``
after its deadline, a call queued behind the waiting threads is dropped rather than run once
the vault thaws, and the vault answers as before once it does.
"""

from __future__ import annotations

import threading
import time

import pytest

from streams.vault.answer_deadline import BoundedVault
from streams.vault.data_keys import DataKeyVault, Erased, VaultError
from streams.vault.kek import KekRing
from tests.postgres import PostgresServer

CASE = "00000000-0000-5000-8000-000000000001"
#: Longest wait for the thawed vault's first answer on a loaded machine, in seconds.
WAIT_SECONDS = 60.0


def test_a_frozen_vault_is_given_up_on_and_a_queued_call_never_runs(
    postgres: PostgresServer, ring: KekRing
) -> None:
    vault = DataKeyVault(postgres.create_database("bounded_vault"), ring)
    vault.create_schema()  # its connection stays in the pool
    bounded = BoundedVault(vault, answer_seconds=1, threads=1)
    try:
        with postgres.frozen():
            threads = threading.active_count()
            with pytest.raises(VaultError) as read:
                bounded.keys_for([CASE], create=False)
            with pytest.raises(VaultError):  # queued behind the waiting read: dropped
                bounded.erase(CASE, "retention rule test")
            waiting = threading.active_count() - threads
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            try:
                answered = bounded.keys_for([CASE], create=False)
                break
            except VaultError:
                assert time.monotonic() < deadline
        tombstone = vault.tombstone(CASE)
    finally:
        vault.close()

    assert "no answer within 1 s: its database is frozen" in str(read.value)
    assert waiting <= 1  # one thread waits on the frozen vault, not one per call
    assert answered == {}
    assert not isinstance(tombstone, Erased)  # the dropped erasure did not run after the thaw
