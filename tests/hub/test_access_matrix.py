"""Who may write what, on the real broker: every institution, event type, topic and key.

Every registered institution (the hub included) publishes every event type on its own inbound
topic and on another's, signed with its valid key, a corrupted signature, another institution's
key, its expired key, its revoked key, a key the registry does not know, and no signature. Each
record gets exactly one receipt on the topic owner's feed, and:

- an unsigned record is refused as ``unsigned`` wherever it was written;
- on another institution's topic, every signed record is refused as ``source_mismatch``;
- on its own topic, every forged or stale signature is refused with its authentication reason;
- on its own topic with its valid key, no record is refused for who sent it: what is left are
  the case rules (authorization and lifecycle), and a report from an institution that may
  report is accepted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas.catalog import default_catalog
from schemas.identity import case_id_for
from streams.domain.hub_sealing import hub_sealing_key
from streams.domain.institutions import load_institutions
from streams.domain.signed_events import SIGNED_EVENT, sign_event
from streams.domain.signing import SigningKey
from streams.settings import Settings
from streams.topics import outbound_topic
from tests.event_samples import LIFECYCLE_SAMPLES
from tests.hubtools import RunningHub
from tests.keytools import dated_key
from tests.schemas.test_schemas_codec import SAMPLES

pytestmark = pytest.mark.slow

EVENT_TIME = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
#: Reasons that say the sender is not who it claims, or cannot prove it.
AUTHENTICATION = {
    "unsigned",
    "bad_signature",
    "unknown_key",
    "key_of_another_institution",
    "key_expired",
    "key_revoked",
    "source_mismatch",
}
#: The reason each way of signing gets on the sender's own topic.
EXPECTED_OWN = {
    "wrong": "bad_signature",
    "foreign": "key_of_another_institution",
    "expired": "key_expired",
    "revoked": "key_revoked",
    "missing": "unknown_key",
    "unsigned": "unsigned",
}
VARIANTS = ("valid", *EXPECTED_OWN)
REPORTERS = {"bawaslu", "bawaslu.33", "inspektorat.3374"}


def sample(full_name: str, source: str) -> dict[str, Any]:
    record = {**SAMPLES, **LIFECYCLE_SAMPLES}[full_name]()
    case_id = str(uuid.uuid4())
    if "case_number" in record:  # a report opens its case under the id of its own number
        record["case_number"] = f"LP/{uuid.uuid4().hex[:12]}"
        case_id = case_id_for(source, record["case_number"])
    record["envelope"] |= {
        "event_id": str(uuid.uuid4()),
        "case_id": case_id,
        "source": source,
        "event_time": EVENT_TIME,
        "ingest_time": None,  # a signed event leaves it null (docs/signing.md)
        "actor_ref": f"user:{source}",  # the schema samples' is no pseudonym the hub takes
    }
    return record


def signed_bytes(hub: RunningHub, variant: str, record: dict[str, Any], other: str) -> bytes:
    """``record`` signed the way ``variant`` says, in its wire form."""
    source = record["envelope"]["source"]
    settings = Settings(home=hub.home)
    ring = hub.publisher.keyring
    keys: dict[str, Callable[[], SigningKey]] = {
        "valid": lambda: ring.signing_key(source, EVENT_TIME),
        "wrong": lambda: ring.signing_key(source, EVENT_TIME),
        "foreign": lambda: ring.signing_key(other, EVENT_TIME),
        "expired": lambda: dated_key(settings, source, "expired"),
        "revoked": lambda: dated_key(settings, source, "revoked"),
        "missing": lambda: SigningKey(f"{source}/0000000000000000", Ed25519PrivateKey.generate()),
    }
    event_type = record["envelope"]["event_type"]
    if variant == "unsigned":
        return hub.codec.encode(event_type, record)
    sealing = hub_sealing_key(ring.registry, EVENT_TIME)
    wrapper = sign_event(hub.codec.catalog, hub.codec, keys[variant](), event_type, record, sealing)
    if variant == "wrong":
        wrapper["signature"] = bytes([wrapper["signature"][0] ^ 1]) + wrapper["signature"][1:]
    return hub.codec.encode(SIGNED_EVENT, wrapper)


def test_every_write_is_refused_or_authenticated_as_it_should_be(hub: RunningHub) -> None:
    ids = [inst.id for inst in load_institutions()]
    events = [f"kawal.events.{name}" for name in default_catalog().event_types()]
    #: event id -> (sender, owner of the topic written, event, way of signing)
    sent: dict[str, tuple[str, str, str, str]] = {}
    per_topic: dict[str, int] = {}
    for index, sender in enumerate(ids):
        other = ids[(index + 1) % len(ids)]
        for full_name in events:
            for owner in (sender, other):
                for variant in VARIANTS:
                    record = sample(full_name, sender)
                    value = signed_bytes(hub, variant, record, other)
                    hub.publisher.send_raw(owner, record["envelope"]["case_id"], value)
                    sent[record["envelope"]["event_id"]] = (sender, owner, full_name, variant)
                    per_topic[owner] = per_topic.get(owner, 0) + 1
    hub.publisher.flush()

    outcome: dict[str, str] = {}
    for owner, count in per_topic.items():
        receipts = hub.read(
            outbound_topic(owner),
            lambda r: "status" in r and r.get("event_id") in sent,
            timeout=120,
            at_least=count,
        )
        for receipt in receipts:
            outcome[receipt["event_id"]] = receipt["reason_code"] or receipt["status"]

    assert set(outcome) == set(sent), f"{len(set(sent) - set(outcome))} records got no receipt"
    wrong: list[tuple[str, str, str, str, str]] = []
    for event_id, (sender, owner, full_name, variant) in sent.items():
        got = outcome[event_id]
        if variant == "unsigned":
            expected_ok = got == "unsigned"  # nothing of an unsigned record is believed
        elif owner != sender:
            expected_ok = got == "source_mismatch"
        elif variant != "valid":
            expected_ok = got == EXPECTED_OWN[variant]
        elif full_name.endswith("ReportReceived") and sender in REPORTERS:
            expected_ok = got == "ACCEPTED"
        else:
            expected_ok = got not in AUTHENTICATION
        if not expected_ok:
            wrong.append((sender, owner, full_name, variant, got))
    assert wrong == []
    assert len(sent) == len(ids) * len(events) * 2 * len(VARIANTS)
