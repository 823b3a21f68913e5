"""Feed disclosures under per-recipient feed keys: one HPKE seal per recipient and epoch.

Each recipient's records of an epoch share one feed key sealed to it; each record opens on its
own with the recipient's private key, only for its own event, and never with another key, even
in a process that already opened the feed key with the right one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from monitoring.metrics import HubMetrics
from schemas.catalog import default_catalog
from streams.domain.entries import EntryProblem, open_feed_disclosures
from streams.domain.feed_keys import OpenedFeedKeys
from streams.domain.keyring import KeyRing
from streams.domain.keys import KeyRefusal
from streams.domain.sealing import SealingKey, seal
from streams.hub.feed_sealing import FeedSealer

CATALOG = default_catalog()
NOW = datetime.now(UTC)
DISCLOSURES = [{"field": "subject_nip", "salt": "11" * 16, "value": "199001012015031001"}]
CASE = "6b0c6f3e-8a0e-5d5b-9a56-3f3f1c1d2e4a"


class OtherKeys:
    """A reader holding another private key under the recipient's key ids."""

    def __init__(self) -> None:
        self.private = X25519PrivateKey.generate()

    def decryption_key(self, institution: str, key_id: str) -> X25519PrivateKey:
        return self.private


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generated(["kawal", "bkn", "bawaslu"], NOW - timedelta(days=1))


def entry(seq: int) -> dict[str, Any]:
    """The fields of an entry that sealing reads (its event bytes bind the ciphertext)."""
    return {"case_id": CASE, "seq": seq, "hash": "ab" * 32, "event": f"event {seq}".encode()}


def item(view: dict[str, Any]) -> dict[str, Any]:
    (found,) = view["feed_disclosures"]
    assert view["sealed_disclosures"] == []
    assert view["disclosures"] == []
    return dict(found)


def test_a_recipients_records_share_one_sealed_feed_key_and_each_opens(ring: KeyRing) -> None:
    sealer = FeedSealer(CATALOG, ring.registry, HubMetrics())
    views = [sealer.sealed_view(entry(seq), "bkn", DISCLOSURES) for seq in (1, 2, 3)]
    items = [item(view) for view in views]

    assert len({(i["encapsulated_key"], i["sealed_feed_key"]) for i in items}) == 1
    assert len({i["nonce"] for i in items}) == 3
    for view in views:
        # A fresh cache each time: every record opens on its own, as after a restart.
        assert open_feed_disclosures(CATALOG, ring, "bkn", view, OpenedFeedKeys()) == DISCLOSURES
        assert open_feed_disclosures(CATALOG, ring, "bkn", view) == DISCLOSURES


def test_each_recipient_gets_its_own_feed_key(ring: KeyRing) -> None:
    sealer = FeedSealer(CATALOG, ring.registry, HubMetrics())
    to_bkn = item(sealer.sealed_view(entry(1), "bkn", DISCLOSURES))
    to_bawaslu = item(sealer.sealed_view(entry(1), "bawaslu", DISCLOSURES))

    assert to_bkn["sealed_feed_key"] != to_bawaslu["sealed_feed_key"]
    assert to_bkn["recipient"] == "bkn"
    assert to_bawaslu["recipient"] == "bawaslu"


def test_a_feed_key_serves_a_bounded_number_of_records() -> None:
    ring = KeyRing.generated(["kawal", "bkn"], NOW - timedelta(days=1))
    sealer = FeedSealer(CATALOG, ring.registry, HubMetrics(), epoch=(3600.0, 2))
    grants = [item(sealer.sealed_view(entry(s), "bkn", DISCLOSURES)) for s in (1, 2, 3)]

    assert grants[0]["sealed_feed_key"] == grants[1]["sealed_feed_key"]
    assert grants[2]["sealed_feed_key"] != grants[1]["sealed_feed_key"]
    for seq, grant in enumerate(grants, start=1):
        view = entry(seq) | {"feed_disclosures": [grant]}
        assert open_feed_disclosures(CATALOG, ring, "bkn", view) == DISCLOSURES


def test_a_feed_key_serves_a_bounded_time() -> None:
    ring = KeyRing.generated(["kawal", "bkn"], NOW - timedelta(days=1))
    sealer = FeedSealer(CATALOG, ring.registry, HubMetrics(), epoch=(0.0, 1 << 20))
    first = item(sealer.sealed_view(entry(1), "bkn", DISCLOSURES))
    second = item(sealer.sealed_view(entry(2), "bkn", DISCLOSURES))

    assert first["sealed_feed_key"] != second["sealed_feed_key"]


def refused(ring: Any, view: dict[str, Any], opened: OpenedFeedKeys | None = None) -> str:
    found = open_feed_disclosures(CATALOG, ring, "bkn", view, opened or OpenedFeedKeys())
    assert isinstance(found, EntryProblem), "opened what it must not"
    assert "199001012015031001" not in found.detail
    return found.code


def test_a_record_moved_onto_another_event_does_not_open(ring: KeyRing) -> None:
    view = FeedSealer(CATALOG, ring.registry, HubMetrics()).sealed_view(
        entry(1), "bkn", DISCLOSURES
    )
    assert refused(ring, view | {"event": b"another event"}) == "unsealable"


@pytest.mark.parametrize("field", ["ciphertext", "nonce", "sealed_feed_key", "encapsulated_key"])
def test_an_altered_record_does_not_open(ring: KeyRing, field: str) -> None:
    view = FeedSealer(CATALOG, ring.registry, HubMetrics()).sealed_view(
        entry(1), "bkn", DISCLOSURES
    )
    altered = item(view)
    altered[field] = bytes([altered[field][0] ^ 1]) + altered[field][1:]
    assert refused(ring, view | {"feed_disclosures": [altered]}) == "unsealable"


def test_a_feed_key_relabelled_for_another_recipient_does_not_open(ring: KeyRing) -> None:
    """The grant is bound to its recipient: BKN's grant under Bawaslu's name does not open."""
    sealer = FeedSealer(CATALOG, ring.registry, HubMetrics())
    view = sealer.sealed_view(entry(1), "bkn", DISCLOSURES)
    relabelled = item(view) | {"recipient": "bawaslu"}
    found = open_feed_disclosures(
        CATALOG, ring, "bawaslu", view | {"feed_disclosures": [relabelled]}
    )
    assert isinstance(found, EntryProblem)
    assert found.code == "unsealable"


def test_another_private_key_does_not_open_even_after_the_right_one_did(ring: KeyRing) -> None:
    view = FeedSealer(CATALOG, ring.registry, HubMetrics()).sealed_view(
        entry(1), "bkn", DISCLOSURES
    )
    opened = OpenedFeedKeys()
    assert open_feed_disclosures(CATALOG, ring, "bkn", view, opened) == DISCLOSURES
    assert refused(OtherKeys(), view, opened) == "unsealable"


def test_a_record_for_another_institution_discloses_nothing(ring: KeyRing) -> None:
    view = FeedSealer(CATALOG, ring.registry, HubMetrics()).sealed_view(
        entry(1), "bkn", DISCLOSURES
    )
    assert open_feed_disclosures(CATALOG, ring, "bawaslu", view) == []


def test_records_sealed_before_feed_keys_still_open(ring: KeyRing) -> None:
    """Feeds written by an older hub carry an HPKE seal per record in sealed_disclosures."""
    found = ring.registry.encryption_key("bkn", NOW)
    assert not isinstance(found, KeyRefusal)
    to = SealingKey("bkn", found.id, found.public_key)
    older = entry(1) | {"sealed_disclosures": [seal(CATALOG, DISCLOSURES, to, entry(1)["event"])]}
    assert open_feed_disclosures(CATALOG, ring, "bkn", older) == DISCLOSURES


def test_a_reader_keeps_a_bounded_number_of_feed_keys_and_still_opens_every_record(
    ring: KeyRing,
) -> None:
    sealer = FeedSealer(CATALOG, ring.registry, HubMetrics(), epoch=(3600.0, 1))
    views = [sealer.sealed_view(entry(seq), "bkn", DISCLOSURES) for seq in (1, 2, 3)]
    assert len({item(view)["sealed_feed_key"] for view in views}) == 3
    opened = OpenedFeedKeys(kept=1)
    for view in [*views, *views]:
        assert open_feed_disclosures(CATALOG, ring, "bkn", view, opened) == DISCLOSURES
