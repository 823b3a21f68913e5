"""Who may write what, on the real broker: every institution, event type, topic and key.

Every registered institution (the hub included) publishes every event type on its own inbound
topic and on another's, signed with its valid key, a corrupted signature, another institution's
key, its expired key, its revoked key, a key the registry does not know, and no signature. A
receipt goes to the sender the hub knows (streams.hub.misplaced), and:

- on its own topic, each record gets one receipt on its feed; an unsigned one is refused as
  ``unsigned``, every forged or stale signature with its authentication reason;
- on another institution's topic, a record with a signature that holds is refused as
  ``source_mismatch``, and a receipt goes to its signer and one to the topic's owner, who
  placed it; any other proves no sender and is kept in ``kawal.dlq`` only, with no receipt
  to anyone (the owner did not send it);
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
from streams.topics import DLQ, outbound_topic
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
    per_feed: dict[str, int] = {}
    for index, sender in enumerate(ids):
        other = ids[(index + 1) % len(ids)]
        for full_name in events:
            for owner in (sender, other):
                for variant in VARIANTS:
                    record = sample(full_name, sender)
                    value = signed_bytes(hub, variant, record, other)
                    hub.publisher.send_raw(owner, record["envelope"]["case_id"], value)
                    sent[record["envelope"]["event_id"]] = (sender, owner, full_name, variant)
                    if owner == sender or variant == "valid":
                        per_feed[sender] = per_feed.get(sender, 0) + 1
                    if owner != sender and variant == "valid":
                        per_feed[owner] = per_feed.get(owner, 0) + 1  # its placer's
    hub.publisher.flush()

    #: event id -> feed -> what the receipt on that feed says
    outcome: dict[str, dict[str, str]] = {}
    for feed, count in per_feed.items():
        receipts = hub.read(
            outbound_topic(feed),
            lambda r: "status" in r and r.get("event_id") in sent,
            timeout=120,
            at_least=count,
        )
        for receipt in receipts:
            told = outcome.setdefault(receipt["event_id"], {})
            assert feed not in told, f"two receipts about {receipt['event_id']} on {feed}"
            told[feed] = receipt["reason_code"] or receipt["status"]

    unanswered = {event_id for event_id, (s, o, _, v) in sent.items() if s != o and v != "valid"}
    assert set(outcome) == set(sent) - unanswered, "records got no receipt, or one too many"
    wrong: list[tuple[str, str, str, str, dict[str, str]]] = []
    for event_id, (sender, owner, full_name, variant) in sent.items():
        if event_id in unanswered:
            continue
        feeds = outcome[event_id]
        got = feeds.get(sender, "")
        if owner != sender:
            # Its signer and its placer are told, and nobody else.
            expected_ok = feeds == {sender: "source_mismatch", owner: "source_mismatch"}
        elif variant != "valid":
            expected_ok = got == EXPECTED_OWN[variant]
        elif full_name.endswith("ReportReceived") and sender in REPORTERS:
            expected_ok = got == "ACCEPTED"
        else:
            expected_ok = got not in AUTHENTICATION
        if owner == sender and set(feeds) != {sender}:
            expected_ok = False  # a record on its own topic is told to its sender alone
        if not expected_ok:
            wrong.append((sender, owner, full_name, variant, feeds))
    assert wrong == []
    assert len(sent) == len(ids) * len(events) * 2 * len(VARIANTS)
    assert_kept_in_the_dlq_only(hub, unanswered)


def assert_kept_in_the_dlq_only(hub: RunningHub, event_ids: set[str]) -> None:
    """Each of ``event_ids`` has its dead letter, and no feed holds a receipt about it."""
    letters = hub.read(DLQ, lambda r: hub.event_id_in(r) in event_ids, 120, len(event_ids))
    assert {hub.event_id_in(letter) for letter in letters} == event_ids
    # The pipeline sends a refusal's letter and receipt in one batch: both are out by now.
    for institution in load_institutions():
        stray = hub.read(
            outbound_topic(institution.id),
            lambda r: "status" in r and r.get("event_id") in event_ids,
            timeout=2,
        )
        assert stray == []
