"""Erasing a case: its key destroyed, a tombstone kept, and no key ever made for it again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from streams.vault.data_keys import DataKeyVault, Erased, Erasure, VaultError
from streams.vault.kek import KekRing, new_kek
from streams.vault.tables import CaseDataKey
from tests.vault.conftest import OpenVault

REASON = "erasure request 2027/014 under the personal data protection law"


def test_an_erased_case_never_gets_a_key_again(
    vault: DataKeyVault, open_vault: OpenVault, ring: KekRing
) -> None:
    erased, kept = str(uuid.uuid4()), str(uuid.uuid4())
    before = vault.keys_for([erased, kept], create=True)
    started = datetime.now(UTC)

    assert vault.erase(erased, REASON) is Erasure.ERASED

    after = vault.keys_for([erased, kept], create=True)
    marker = after[erased]
    assert isinstance(marker, Erased)
    assert marker.reason == REASON
    assert started <= marker.erased_at <= datetime.now(UTC)
    assert after[kept] == before[kept]
    assert open_vault(ring).keys_for([erased], create=True) == {erased: marker}
    assert vault.keys_per_kek() == {ring.current_id: 1}


def test_a_second_erasure_changes_nothing(vault: DataKeyVault) -> None:
    case = str(uuid.uuid4())
    vault.keys_for([case], create=True)
    vault.erase(case, REASON)

    assert vault.erase(case, "another reason") is Erasure.ALREADY_ERASED
    assert vault.keys_for([case], create=False) == {case: Erased(_erased_at(vault, case), REASON)}


def test_erasing_a_case_without_a_key_keeps_one_from_being_made(vault: DataKeyVault) -> None:
    case = str(uuid.uuid4())

    assert vault.erase(case, REASON) is Erasure.NO_KEY

    assert isinstance(vault.keys_for([case], create=True)[case], Erased)
    assert vault.erase(case, REASON) is Erasure.ALREADY_ERASED
    assert vault.keys_per_kek() == {}


def test_an_erasure_by_another_process_is_seen_despite_the_cache(
    vault: DataKeyVault, open_vault: OpenVault, ring: KekRing
) -> None:
    case = str(uuid.uuid4())
    assert isinstance(vault.keys_for([case], create=True)[case], bytes)

    assert open_vault(ring).erase(case, REASON) is Erasure.ERASED

    assert isinstance(vault.keys_for([case], create=True)[case], Erased)


def test_the_tombstone_keeps_no_key(vault: DataKeyVault) -> None:
    case = str(uuid.uuid4())
    vault.keys_for([case], create=True)
    vault.erase(case, REASON)

    with vault.engine.connect() as conn:
        row = conn.execute(select(CaseDataKey).where(CaseDataKey.case_id == case)).one()
    assert (row.kek_id, row.wrapped_key, row.erase_reason) == (None, None, REASON)


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_an_erasure_needs_a_reason(vault: DataKeyVault, reason: str) -> None:
    case = str(uuid.uuid4())
    vault.keys_for([case], create=True)

    with pytest.raises(VaultError, match="needs a reason"):
        vault.erase(case, reason)
    assert isinstance(vault.keys_for([case], create=False)[case], bytes)


def test_an_invalid_case_id_is_not_erased(vault: DataKeyVault) -> None:
    with pytest.raises(VaultError, match="1 to 36 characters"):
        vault.erase("", REASON)


def test_an_erased_key_leaves_no_bytes_in_the_sqlite_files(tmp_path: Path, ring: KekRing) -> None:
    vault = DataKeyVault(f"sqlite:///{tmp_path / 'vault.db'}", ring)
    vault.create_schema()
    reader = DataKeyVault(f"sqlite:///{tmp_path / 'vault.db'}", ring)
    erased, kept = str(uuid.uuid4()), str(uuid.uuid4())
    vault.keys_for([erased, kept], create=True)
    reader.keys_for([erased, kept], create=False)  # a second process with the file open
    wrapped = {case: _wrapped_of(vault, case) for case in (erased, kept)}
    assert all(key in _raw_bytes(tmp_path) for key in wrapped.values())

    assert vault.erase(erased, REASON) is Erasure.ERASED

    raw = _raw_bytes(tmp_path)
    assert wrapped[erased] not in raw
    assert wrapped[kept] in raw
    vault.close()
    reader.close()


def _wrapped_of(vault: DataKeyVault, case: str) -> bytes:
    with vault.engine.connect() as conn:
        query = select(CaseDataKey.wrapped_key).where(CaseDataKey.case_id == case)
        wrapped = conn.execute(query).scalar_one()
    assert wrapped is not None
    return wrapped


def _erased_at(vault: DataKeyVault, case: str) -> datetime:
    marker = vault.keys_for([case], create=False)[case]
    assert isinstance(marker, Erased)
    return marker.erased_at


def _raw_bytes(folder: Path) -> bytes:
    """Everything SQLite keeps of the vault: the file, its write-ahead log and its index."""
    return b"".join(path.read_bytes() for path in sorted(folder.glob("vault.db*")))


def test_the_tombstone_says_when_and_why_without_the_kek(
    vault: DataKeyVault, open_vault: OpenVault
) -> None:
    erased, live = str(uuid.uuid4()), str(uuid.uuid4())
    vault.keys_for([erased, live], create=True)
    vault.erase(erased, REASON)
    # Another process whose ring holds none of the KEKs: reading a tombstone unwraps nothing.
    stranger = open_vault(KekRing([new_kek()]))

    tombstone = stranger.tombstone(erased)

    assert tombstone == Erased(_erased_at(vault, erased), REASON)
    assert stranger.tombstone(live) is None
    assert stranger.tombstone(str(uuid.uuid4())) is None
