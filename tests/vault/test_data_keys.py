"""The vault on real SQLite and PostgreSQL: one key per case, the same for every process."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import select, update

from streams.vault.data_keys import DataKeyVault, Erased, VaultError
from streams.vault.kek import KekError, KekRing, new_kek
from streams.vault.tables import CaseDataKey
from tests.vault.conftest import OpenVault


def case_ids(count: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(count)]


def live(keys: dict[str, bytes | Erased]) -> dict[str, bytes]:
    """The keys of a vault's answer, refusing any erased case."""
    found = {case_id: key for case_id, key in keys.items() if isinstance(key, bytes)}
    assert found.keys() == keys.keys()
    return found


def test_keys_are_made_once_and_found_again(vault: DataKeyVault) -> None:
    cases = case_ids(3)

    made = live(vault.keys_for(cases, create=True))
    again = live(vault.keys_for([*cases, cases[0]], create=True))

    assert made == again
    assert sorted(made) == sorted(cases)
    assert all(len(key) == 32 for key in made.values())
    assert len(set(made.values())) == 3
    assert vault.keys_per_kek() == {vault.ring.current_id: 3}


def test_another_process_finds_the_same_keys(
    vault: DataKeyVault, open_vault: OpenVault, ring: KekRing
) -> None:
    cases = case_ids(4)
    made = live(vault.keys_for(cases[:2], create=True))

    other = open_vault(ring)

    assert live(other.keys_for(cases[:2], create=False)) == made
    both = live(other.keys_for(cases, create=True))
    assert live(vault.keys_for(cases, create=False)) == both


def test_a_key_another_process_made_first_is_answered_not_the_one_made_here(
    vault: DataKeyVault, open_vault: OpenVault, ring: KekRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    [first, fresh] = case_ids(2)
    theirs = live(vault.keys_for([first], create=True))
    other = open_vault(ring)
    # `other` read before `vault` committed its key, so it makes one of its own for `first`:
    # its insert keeps the row already there, and only that row is read back.
    monkeypatch.setattr(other, "_read", lambda wanted: {})

    answered = live(other.keys_for([first, fresh], create=True))

    assert answered[first] == theirs[first]
    monkeypatch.undo()
    assert live(other.keys_for([first, fresh], create=False)) == answered
    assert live(vault.keys_for([fresh], create=False)) == {fresh: answered[fresh]}
    assert vault.keys_per_kek() == {vault.ring.current_id: 2}


def test_a_reader_gets_no_key_for_a_case_without_one(vault: DataKeyVault) -> None:
    [known, unknown] = case_ids(2)
    vault.keys_for([known], create=True)

    assert list(vault.keys_for([known, unknown], create=False)) == [known]
    assert vault.keys_per_kek() == {vault.ring.current_id: 1}
    assert vault.keys_for([], create=True) == {}


def test_concurrent_makers_of_the_same_keys_agree(open_vault: OpenVault, ring: KekRing) -> None:
    cases = case_ids(40)
    vaults = [open_vault(ring) for _ in range(4)]
    answers: list[dict[str, bytes]] = []
    failures: list[BaseException] = []
    start = threading.Barrier(len(vaults))

    def make(vault: DataKeyVault) -> None:
        start.wait()
        try:
            answers.append(live(vault.keys_for(cases, create=True)))
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=make, args=(vault,)) for vault in vaults]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert len(answers) == 4
    assert all(answer == answers[0] for answer in answers)
    assert vaults[0].keys_per_kek() == {ring.current_id: 40}


@pytest.mark.parametrize("bad", ["", "x" * 37])
def test_an_invalid_case_id_is_refused(vault: DataKeyVault, bad: str) -> None:
    with pytest.raises(VaultError, match="1 to 36 characters"):
        vault.keys_for([str(uuid.uuid4()), bad], create=True)
    assert vault.keys_per_kek() == {}


def test_an_altered_wrapped_key_is_refused_not_answered_from_memory(vault: DataKeyVault) -> None:
    [case] = case_ids(1)
    vault.keys_for([case], create=True)
    with vault.engine.begin() as conn:
        wrapped = conn.execute(select(CaseDataKey.wrapped_key)).scalar_one()
        assert wrapped is not None
        altered = wrapped[:-1] + bytes([wrapped[-1] ^ 1])
        conn.execute(update(CaseDataKey).values(wrapped_key=altered))

    with pytest.raises(KekError, match=f"case {case} does not unwrap"):
        vault.keys_for([case], create=False)


def test_a_wrapped_key_copied_to_another_case_is_refused(vault: DataKeyVault) -> None:
    [first, second] = case_ids(2)
    vault.keys_for([first, second], create=True)
    with vault.engine.begin() as conn:
        wrapped = conn.execute(
            select(CaseDataKey.wrapped_key).where(CaseDataKey.case_id == first)
        ).scalar_one()
        conn.execute(
            update(CaseDataKey).where(CaseDataKey.case_id == second).values(wrapped_key=wrapped)
        )

    with pytest.raises(KekError, match=f"case {second} does not unwrap"):
        vault.keys_for([second], create=False)


def test_a_vault_without_the_kek_of_its_keys_names_it(
    vault: DataKeyVault, open_vault: OpenVault, ring: KekRing
) -> None:
    cases = case_ids(2)
    vault.keys_for(cases, create=True)

    stranger = open_vault(KekRing([new_kek()]))

    with pytest.raises(KekError, match=f"KEK '{ring.current_id}', which is not in the ring"):
        stranger.keys_for(cases, create=True)


def test_a_missing_vault_is_refused_not_made(vault_url: str, ring: KekRing) -> None:
    with pytest.raises(VaultError, match="no vault at"):
        DataKeyVault.open_existing(vault_url, ring)

    made = DataKeyVault(vault_url, ring)
    made.create_schema()
    made.create_schema()  # a second start finds nothing to do
    made.close()
    opened = DataKeyVault.open_existing(vault_url, ring)
    assert opened.keys_per_kek() == {}
    opened.close()


def test_an_unreachable_vault_says_so_without_its_password(ring: KekRing) -> None:
    url = "postgresql+psycopg://kawal:s3cret@127.0.0.1:1/vault"
    with pytest.raises(VaultError, match="cannot open the vault") as refused:
        DataKeyVault.open_existing(url, ring)
    assert "s3cret" not in str(refused.value)
