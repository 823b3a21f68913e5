"""A connector believes a feed entry only when the hub and its sender signed it as it stands.

A forged ``CaseClosed`` on an outbound topic must not release a SIASN block: whoever can write
the topic cannot make the hub's signature, nor another history of a case the connector saw.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connectors.base import ConnectorContext
from connectors.feed_chains import FeedChains
from connectors.signed_fixtures import contract_keyring, feed_entry_record
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.domain.entries import EntryProblem, check_entry, vouch
from streams.domain.keys import KeyRegistry
from streams.domain.signing import SigningKey
from tests.connectors.test_siasn import case_closed, deadline_breached


@pytest.fixture
def context() -> ConnectorContext:
    catalog = default_catalog()
    return ConnectorContext(catalog, AvroCodec(catalog))


def problem(context: ConnectorContext, entry: dict[str, Any]) -> str:
    checked = check_entry(context.codec, contract_keyring().registry, entry)
    return checked.code if isinstance(checked, EntryProblem) else "believed"


def test_a_signed_entry_is_believed_and_revealed(context: ConnectorContext) -> None:
    entry = feed_entry_record(context, "DeadlineBreached", deadline_breached(CASE), "bkn")
    assert problem(context, entry) == "believed"


def test_a_forged_case_closed_is_refused(context: ConnectorContext) -> None:
    genuine = feed_entry_record(context, "CaseClosed", case_closed(CASE), "bkn")
    forger = SigningKey(genuine["hub_key_id"], Ed25519PrivateKey.generate())
    _, forged_signature = vouch(forger, genuine["hash"])

    assert problem(context, genuine | {"hub_signature": forged_signature}) == (
        "hub_signature_invalid"
    )
    assert problem(context, genuine | {"hub_signature": b""}) == "hub_signature_invalid"
    assert problem(context, genuine | {"seq": 2}) == "entry_hash_mismatch"
    assert problem(context, genuine | {"event_type": "ReportReceived"}) == "entry_mislabelled"


def test_an_entry_from_another_history_is_refused(context: ConnectorContext) -> None:
    chains = FeedChains(":memory:")
    first = feed_entry_record(context, "CaseClosed", case_closed(CASE), "bkn")
    chains.record(first)
    other = feed_entry_record(context, "CaseClosed", case_closed(CASE), "bkn")

    fork = chains.problem(other)
    assert fork is not None
    assert fork.code == "chain_fork"
    assert chains.problem(first) is None
    broken = chains.problem(other | {"seq": 2, "prev_hash": "00" * 32})
    assert broken is not None
    assert broken.code == "chain_break"
    assert chains.problem(other | {"seq": 2, "prev_hash": first["hash"]}) is None


def test_an_entry_recorded_after_its_senders_key_was_revoked_is_refused(
    context: ConnectorContext,
) -> None:
    # Its event claims a time before the revocation, as a leaked key's holder would date it;
    # the hub recorded it after, so the key vouches for nothing there.
    closed = case_closed(CASE)
    event_time = closed["envelope"]["event_time"] = datetime.now(UTC) - timedelta(hours=1)
    entry = feed_entry_record(context, "CaseClosed", closed, "bkn")
    registry = contract_keyring().registry

    def revoked(at: datetime) -> KeyRegistry:
        signing = [
            replace(key, revoked_at=at, reason="key leaked") if key.id == entry["key_id"] else key
            for key in registry.entries()
        ]
        return KeyRegistry([*signing, *registry.encryption_entries()])

    after_event = event_time + timedelta(seconds=1)
    assert after_event < entry["recorded_at"]
    refused = check_entry(context.codec, revoked(after_event), entry)
    assert isinstance(refused, EntryProblem)
    assert refused.code == "key_revoked"
    # Recorded before the revocation, the entry stays believed.
    later = entry["recorded_at"] + timedelta(seconds=1)
    assert not isinstance(check_entry(context.codec, revoked(later), entry), EntryProblem)


CASE = "7d1f3c1e-2a4d-5e6f-8a9b-0c1d2e3f4a5b"
