"""Tree heads across a rotation of the hub's key: keepers go on keeping after the restart.

The sink reads the key registry when it starts. Between ``kawal keys revoke`` of the hub's key
and the sink's restart it signs heads with the revoked key, which every keeper refuses
(``hub_key_revoked``); the restarted sink must prove its next head from the last head keepers
could keep, or each refuses every later head (``head_not_after_last_kept``) for ever.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connectors.heads import HeadKeeper
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.head_check import verify_heads
from streams.audit.heads import HeadIssuer
from streams.audit.store import AuditStore
from streams.audit.tree_log import TreeLog
from streams.audit.verify import verify_store
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keyring import KeyRing
from streams.domain.keys import KeyEntry, KeyRegistry, key_id_for, raw_public
from streams.domain.signing import SigningKey
from streams.domain.tree_heads import TREE_HEAD_RECORD, SignedTreeHead
from tests.audit.treetools import keyring, signed_rows

CASE = "7a1e0c2a-0000-4000-8000-000000000001"
NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
REVOKED_AT = NOW + timedelta(seconds=5)
CODEC = AvroCodec(default_catalog())


def rotated(ring: KeyRing) -> tuple[SigningKey, KeyRegistry]:
    """A new hub key valid from before the revocation, and the registry with the old revoked."""
    private = Ed25519PrivateKey.generate()
    new = SigningKey(key_id_for(HUB_INSTITUTION, raw_public(private.public_key())), private)
    old = ring.signing_key(HUB_INSTITUTION, NOW)
    entries = [
        dataclasses.replace(entry, revoked_at=REVOKED_AT, reason="rotation")
        if entry.id == old.key_id
        else entry
        for entry in ring.registry.entries()
    ]
    entries.append(KeyEntry(new.key_id, HUB_INSTITUTION, private.public_key(), NOW))
    return new, KeyRegistry(entries)


def keep(keeper: HeadKeeper, head: SignedTreeHead) -> str | None:
    """What the keeper says of ``head`` as it arrives from ``kawal.heads``."""
    refusal = keeper.keep(CODEC.decode(CODEC.encode(TREE_HEAD_RECORD, head.to_record())).record)
    return None if refusal is None else refusal.code


def test_heads_after_a_hub_key_rotation_prove_from_the_last_head_keepers_kept(
    store: AuditStore, tmp_path: Path
) -> None:
    ring = keyring()
    new_key, registry = rotated(ring)
    before = HeadIssuer(store, ring.signing_key(HUB_INSTITUTION, NOW), ring.registry)
    store.insert(signed_rows(ring, CASE, 3))
    kept_before = before.issue(NOW)
    assert kept_before is not None
    # Revoked, not yet restarted: the sink still signs with the old key.
    store.insert(signed_rows(ring, CASE, 2, start=4))
    unkept = before.issue(REVOKED_AT + timedelta(seconds=1))
    assert unkept is not None
    keeper = HeadKeeper(tmp_path / "bkn.heads.jsonl", registry)
    assert keep(keeper, kept_before) is None
    assert keep(keeper, unkept) == "hub_key_revoked"

    restarted = HeadIssuer(store, new_key, registry)
    assert restarted.latest() == kept_before
    # The log has not grown since the refused head: its size is signed again, from the kept.
    again = restarted.issue(REVOKED_AT + timedelta(seconds=30))
    assert again is not None
    assert (again.tree_size, again.previous_size) == (5, 3)
    assert keep(keeper, again) is None
    assert TreeLog(store.engine).latest_head() == again
    store.insert(signed_rows(ring, CASE, 1, start=6))
    later = restarted.issue(REVOKED_AT + timedelta(seconds=60))
    assert later is not None
    assert keep(keeper, later) is None
    lines = keeper.path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert verify_heads(store, lines, registry).ok


def test_a_sink_restarted_with_the_registry_heals_heads_that_proved_from_a_refused_one(
    store: AuditStore, tmp_path: Path
) -> None:
    ring = keyring()
    new_key, registry = rotated(ring)
    before = HeadIssuer(store, ring.signing_key(HUB_INSTITUTION, NOW), ring.registry)
    store.insert(signed_rows(ring, CASE, 3))
    kept_before = before.issue(NOW)
    store.insert(signed_rows(ring, CASE, 2, start=4))
    unkept = before.issue(REVOKED_AT + timedelta(seconds=1))
    assert kept_before is not None
    assert unkept is not None
    keeper = HeadKeeper(tmp_path / "bkn.heads.jsonl", registry)
    assert keep(keeper, kept_before) is None
    assert keep(keeper, unkept) == "hub_key_revoked"
    # Heads signed with the new key that prove from the refused head, as a sink that passed
    # over no head issued them: each is refused.
    store.insert(signed_rows(ring, CASE, 1, start=6))
    chained = HeadIssuer(store, new_key).issue(REVOKED_AT + timedelta(seconds=30))
    assert chained is not None
    assert chained.previous_size == 5
    assert keep(keeper, chained) == "head_not_after_last_kept"

    healed = HeadIssuer(store, new_key, registry)
    assert healed.latest() == kept_before
    head = healed.issue(REVOKED_AT + timedelta(seconds=60))
    assert head is not None
    assert (head.tree_size, head.previous_size) == (6, 3)
    assert keep(keeper, head) is None
    assert HeadIssuer(store, new_key, registry).latest() == head


def test_a_kept_head_signed_after_the_revocation_is_named_so_in_the_heads_check(
    store: AuditStore,
) -> None:
    ring = keyring()
    _, registry = rotated(ring)
    store.insert(signed_rows(ring, CASE, 3))
    late = HeadIssuer(store, ring.signing_key(HUB_INSTITUTION, NOW)).issue(
        REVOKED_AT + timedelta(seconds=1)
    )
    assert late is not None
    report = verify_heads(store, [late.to_json()], registry)
    [finding] = report.findings
    assert finding.code == "hub_key_revoked"
    assert "before the head was issued" in finding.detail
    assert "sign with" not in finding.detail


def test_an_entry_the_hub_signed_after_its_key_was_revoked_says_what_happened(
    store: AuditStore,
) -> None:
    ring = keyring()
    old = ring.signing_key(HUB_INSTITUTION, NOW)
    recorded = datetime(2024, 11, 4, 9, 0, tzinfo=UTC)
    entries = [
        dataclasses.replace(entry, revoked_at=recorded, reason="leaked")
        if entry.id == old.key_id
        else entry
        for entry in ring.registry.entries()
    ]
    store.insert(signed_rows(ring, CASE, 2))
    [finding] = verify_store(store, keys=KeyRegistry(entries)).findings
    assert finding.reason.startswith("hub_key_revoked: ")
    assert "before the entry was recorded" in finding.reason
    assert "Rotate keys" in finding.reason
    assert "sign with" not in finding.reason
