"""A revoked key's refusal says when it was revoked and what to do, never why.

The reason is the custodian's note for the hub's operators (the key registry); the refusal goes
to whoever used the key, the one who stole it included.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from streams.domain.hub_sealing import hub_sealing_key
from streams.domain.key_entries import EncryptionKeyEntry, KeyEntry
from streams.domain.keys import KeyRegistry
from streams.domain.sealing import SealingKey
from streams.domain.signed_events import SIGNED_EVENT, sign_event
from streams.domain.signing import SigningKey
from streams.hub.case_table import CaseBatch
from streams.hub.pipeline import Pipeline
from streams.topics import DLQ, outbound_topic
from tests.hub.steptools import keyring, raw_message, step_pipeline
from tests.hubtools import report

EVENT_TIME = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
REASON = "laptop stolen from the car of the records clerk"


@pytest.fixture(scope="module")
def step(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    return step_pipeline(tmp_path_factory.mktemp("revocations"))


@pytest.fixture
def event() -> dict[str, Any]:
    record = report("bawaslu.33")
    record["envelope"]["event_time"] = EVENT_TIME
    return record


def _with(step: Pipeline, entry: KeyEntry | EncryptionKeyEntry) -> Pipeline:
    known = keyring(step).registry
    registry = KeyRegistry([*known.entries(), *known.encryption_entries(), entry])
    return replace(step, rules=replace(step.rules, keys=registry))


def _told(step: Pipeline, record: dict[str, Any], wrapper: dict[str, Any]) -> list[str]:
    """What the dead letter and the rejection receipt say (code: sentence) of ``wrapper``."""
    value = step.codec.encode(SIGNED_EVENT, wrapper)
    produced = step.decide(CaseBatch({}), raw_message(step, record, value, 0))
    feed = outbound_topic(record["envelope"]["source"])
    answers = [step.codec.decode(v).record for topic, _, v, _ in produced if topic in (DLQ, feed)]
    assert len(answers) == 2
    return [f"{answer['reason_code']}: {answer['reason']}" for answer in answers]


@pytest.mark.parametrize("hours", [-1, 1], ids=["before_event_time", "after_event_time"])
def test_a_revoked_signing_key_is_refused_with_when_and_what_to_do(
    step: Pipeline, event: dict[str, Any], hours: int
) -> None:
    # After the event's time, the record still reached the hub after the revocation.
    key = SigningKey("bawaslu.33/stolen", Ed25519PrivateKey.generate())
    revoked_at = EVENT_TIME + timedelta(hours=hours)
    entry = KeyEntry(
        key.key_id,
        "bawaslu.33",
        key.private.public_key(),
        EVENT_TIME - timedelta(days=30),
        revoked_at=revoked_at,
        reason=REASON,
    )
    revoked = _with(step, entry)
    hub = hub_sealing_key(keyring(step).registry, EVENT_TIME)
    wrapper = sign_event(step.codec.catalog, step.codec, key, "ReportReceived", event, hub)

    for said in _told(revoked, event, wrapper):
        assert said.startswith(
            f"key_revoked: key {key.key_id} was revoked at {revoked_at.isoformat()}"
        )
        assert "sign with the institution's newer key" in said
        assert "laptop" not in said


def test_disclosures_sealed_to_a_revoked_hub_key_are_refused_without_its_reason(
    step: Pipeline, event: dict[str, Any]
) -> None:
    old = X25519PrivateKey.generate().public_key()
    revoked_at = EVENT_TIME + timedelta(hours=1)
    withdrawn = EncryptionKeyEntry(
        "kawal/withdrawn", "kawal", old, EVENT_TIME, revoked_at=revoked_at, reason=REASON
    )
    revoked = _with(step, withdrawn)
    key = keyring(step).signing_key("bawaslu.33", EVENT_TIME)
    stale = SealingKey("kawal", withdrawn.id, old)
    wrapper = sign_event(step.codec.catalog, step.codec, key, "ReportReceived", event, stale)

    for said in _told(revoked, event, wrapper):
        assert f"key kawal/withdrawn was revoked at {revoked_at.isoformat()}" in said
        assert "seal to the institution's current encryption key" in said
        assert "laptop" not in said
