"""Rotating keys loses no reader: an institution's encryption key, and the hub's KEKs.

An institution that registers a new encryption key receives what is sealed after the switch
under the new key and still opens what was sealed to the old one (it keeps the old private
key); the hub re-wraps every case's data key under a new KEK and opens the older cases'
disclosures without the old KEK.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitoring.metrics import HubMetrics
from schemas.catalog import default_catalog
from streams.domain.decryption_keys import generated_encryption_key
from streams.domain.entries import EntryProblem, open_feed_disclosures
from streams.domain.keyring import KeyRing
from streams.domain.keys import EncryptionKeyEntry, KeyEntry, KeyRegistry
from streams.hub.feed_sealing import FeedSealer
from streams.vault.data_keys import DataKeyVault
from streams.vault.entries import unvault, vaulted
from streams.vault.kek import KekRing, new_kek

CATALOG = default_catalog()
NOW = datetime.now(UTC)
DISCLOSURES = [{"field": "subject_nip", "salt": "00" * 16, "value": "199001012015031001"}]
CASE = "6b0c6f3e-8a0e-5d5b-9a56-3f3f1c1d2e4a"


def entry() -> dict[str, Any]:
    """The fields of an entry that sealing reads (its event bytes bind the seal)."""
    return {"case_id": CASE, "seq": 1, "hash": "ab" * 32, "event": b"committed event bytes"}


def rotated(ring: KeyRing) -> tuple[KeyRing, EncryptionKeyEntry]:
    """``ring`` after BKN registered a second encryption key, valid from a minute ago.

    The old key stays valid for an hour more: the periods overlap, as a rotation does.
    """
    old = next(e for e in ring.registry.encryption_entries() if e.institution == "bkn")
    private, new = generated_encryption_key("bkn", NOW - timedelta(minutes=1))
    entries: list[KeyEntry | EncryptionKeyEntry] = [
        *ring.registry.entries(),
        *(e for e in ring.registry.encryption_entries() if e.id != old.id),
        replace(old, valid_until=NOW + timedelta(hours=1)),
        new,
    ]
    held = {new.id: private, old.id: ring.decryption_key("bkn", old.id)}
    return KeyRing(Path("/nonexistent"), KeyRegistry(entries), None, held), new


def test_an_institution_reads_what_was_sealed_before_and_after_its_key_rotation() -> None:
    ring = KeyRing.generated(["kawal", "bkn"], NOW - timedelta(days=1))
    before = FeedSealer(CATALOG, ring.registry, HubMetrics()).sealed_view(
        entry(), "bkn", DISCLOSURES
    )
    after_ring, new = rotated(ring)
    after = FeedSealer(CATALOG, after_ring.registry, HubMetrics()).sealed_view(
        entry(), "bkn", DISCLOSURES
    )

    assert after["feed_disclosures"][0]["key_id"] == new.id  # the later key seals
    assert before["feed_disclosures"][0]["key_id"] != new.id
    for view in (before, after):
        assert open_feed_disclosures(CATALOG, after_ring, "bkn", view) == DISCLOSURES
    # A connector that dropped the old private key no longer opens the old entries.
    only_new = KeyRing(Path("/nonexistent"), after_ring.registry, None, {})
    refused = open_feed_disclosures(CATALOG, only_new, "bkn", before)
    assert isinstance(refused, EntryProblem)
    assert refused.code == "unsealable"


def test_a_kek_rotation_keeps_every_case_readable_without_the_old_kek(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vault.db'}"
    first = new_kek()
    vault = DataKeyVault(url, KekRing([first]))
    vault.create_schema()
    key = vault.keys_for([CASE], create=True)[CASE]
    assert isinstance(key, bytes)
    stored = vaulted(CATALOG, key, entry() | {"disclosures": DISCLOSURES})
    vault.close()

    second = new_kek()
    rewrapping = DataKeyVault(url, KekRing([first, second]))
    assert rewrapping.rewrap() == 1
    rewrapping.close()
    without_first = DataKeyVault(url, KekRing([second]))
    reopened = without_first.keys_for([CASE], create=False)[CASE]
    without_first.close()

    assert reopened == key
    sealed = stored["vaulted_disclosures"]
    assert unvault(CATALOG, reopened, CASE, stored["hash"], sealed) == DISCLOSURES
    assert stored["disclosures"] == []
