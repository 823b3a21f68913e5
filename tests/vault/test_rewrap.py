"""KEK rotation: every live key rewrapped under the newest KEK; then the old KEK can go."""

from __future__ import annotations

import uuid

import pytest

from streams.vault.data_keys import DataKeyVault, Erased
from streams.vault.kek import KekError, KekRing, new_kek
from tests.vault.conftest import OpenVault


def test_after_rewrap_the_old_kek_can_be_dropped(
    vault: DataKeyVault, open_vault: OpenVault
) -> None:
    old = new_kek()
    vault.ring = KekRing([old])
    cases = [str(uuid.uuid4()) for _ in range(7)]
    keys = vault.keys_for(cases, create=True)
    erased = cases.pop()
    vault.erase(erased, "erasure request")
    new = new_kek()

    moved = vault.rewrap(KekRing([old, new]), batch=3)

    assert moved == 6
    assert vault.keys_per_kek() == {new[0]: 6}
    without_old = open_vault(KekRing([new]))
    after = without_old.keys_for([*cases, erased], create=False)
    assert {case: after[case] for case in cases} == {case: keys[case] for case in cases}
    assert isinstance(after[erased], Erased)
    assert vault.rewrap() == 0


def test_keys_made_after_rewrap_are_wrapped_under_the_new_kek(vault: DataKeyVault) -> None:
    old, new = new_kek(), new_kek()
    vault.ring = KekRing([old])
    vault.keys_for([str(uuid.uuid4())], create=True)

    vault.rewrap(KekRing([old, new]))
    vault.keys_for([str(uuid.uuid4())], create=True)

    assert vault.keys_per_kek() == {new[0]: 2}


def test_rewrap_without_the_old_kek_names_it_and_changes_nothing(
    vault: DataKeyVault, ring: KekRing
) -> None:
    cases = [str(uuid.uuid4()) for _ in range(3)]
    keys = vault.keys_for(cases, create=True)

    with pytest.raises(KekError, match=f"KEK '{ring.current_id}', which is not in the ring"):
        vault.rewrap(KekRing([new_kek()]))

    assert vault.keys_per_kek() == {ring.current_id: 3}
    assert vault.ring is ring
    assert vault.keys_for(cases, create=False) == keys
