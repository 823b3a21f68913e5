"""Ingress authenticates before it authorizes: every way a signed event can fail, in process.

Each refusal is a reason code in ``kawal.dlq`` and in the rejection receipt, and the hub's
receipt is itself signed; the attacks of a PPK writing as BKN and of a forged DeadlineBreached
are refused as well.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from streams.broker.dead_letters import opened_payload
from streams.domain.commitments import commit
from streams.domain.hub_sealing import hub_sealing_key
from streams.domain.key_entries import EncryptionKeyEntry
from streams.domain.keys import KeyEntry, KeyRefusal, KeyRegistry
from streams.domain.receipt_statement import rejection_statement
from streams.domain.sealing import SealingKey, open_sealed, seal
from streams.domain.signed_events import SIGNED_EVENT, sign_event
from streams.domain.signing import Context, SigningKey, verify
from streams.hub.case_table import CaseBatch
from streams.hub.event_times import CLOCK_SKEW
from streams.hub.pipeline import Pipeline
from streams.topics import DLQ, outbound_topic
from tests.hub.steptools import keyring, raw_message, step_pipeline
from tests.hubtools import report

EVENT_TIME = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
#: Reasons whose dead letter keeps no bytes of the refused record.
IN_CLEAR = {"personal_data_in_clear", "disclosures_in_clear"}


def fresh_key(key_id: str) -> SigningKey:
    return SigningKey(key_id, Ed25519PrivateKey.generate())


def entry_of(key: SigningKey, institution: str, **dates: datetime | str) -> KeyEntry:
    public = key.private.public_key()
    return KeyEntry(key.key_id, institution, public, **dates)  # type: ignore[arg-type]


def with_keys(step: Pipeline, *extra: KeyEntry) -> Pipeline:
    """``step`` whose key registry also holds ``extra``."""
    known = keyring(step).registry
    registry = KeyRegistry([*known.entries(), *known.encryption_entries(), *extra])
    return replace(step, rules=replace(step.rules, keys=registry))


def signed(step: Pipeline, record: dict[str, Any], key: SigningKey | None = None) -> dict[str, Any]:
    source = record["envelope"]["source"]
    key = key or keyring(step).signing_key(source, EVENT_TIME)
    hub = hub_sealing_key(keyring(step).registry, EVENT_TIME)
    return sign_event(step.codec.catalog, step.codec, key, "ReportReceived", record, hub)


def refused_with(step: Pipeline, record: dict[str, Any], wrapper: dict[str, Any] | bytes) -> str:
    """The reason code ingress gives ``wrapper`` (a record to encode, or raw bytes)."""
    value = wrapper if isinstance(wrapper, bytes) else step.codec.encode(SIGNED_EVENT, wrapper)
    produced = step.decide(CaseBatch({}), raw_message(step, record, value, 0))
    letters = [step.codec.decode(v).record for topic, _, v, _ in produced if topic == DLQ]
    if not letters:
        return "accepted"
    sender = record["envelope"]["source"]
    receipts = [
        step.codec.decode(v).record
        for topic, _, v, _ in produced
        if topic == outbound_topic(sender)
    ]
    receipt = receipts[0]
    reason = str(letters[0]["reason_code"])
    assert receipt["reason_code"] == reason
    # A record refused for personal data in clear is kept by its coordinates only, the others
    # sealed to the hub for replay (docs/signing.md): the operator's replay opens them.
    if reason in IN_CLEAR:
        assert (letters[0]["payload"], letters[0]["sealed_to"]) == (b"", ""), reason
    else:
        assert letters[0]["sealed_to"].startswith("kawal/")
        assert letters[0]["payload"] != value
        assert opened_payload(letters[0], keyring(step)) == value
    labels = {"stage": "ingress", "reason": reason}
    counted = step.metrics.registry.get_sample_value("kawal_rejections_total", labels)
    assert counted is not None, f"no kawal_rejections_total count for {reason}"
    assert counted >= 1
    hub = step.rules.keys.key_for("kawal", receipt["hub_key_id"], EVENT_TIME)
    assert isinstance(hub, KeyEntry)
    statement = rejection_statement(receipt)
    assert verify(hub.public_key, Context.REJECTION, statement, receipt["hub_signature"])
    return reason


def reason_given(step: Pipeline, record: dict[str, Any], wrapper: dict[str, Any] | bytes) -> str:
    """The sentence of the rejection receipt ingress sends back for ``wrapper`` (or bytes)."""
    value = wrapper if isinstance(wrapper, bytes) else step.codec.encode(SIGNED_EVENT, wrapper)
    produced = step.decide(CaseBatch({}), raw_message(step, record, value, 0))
    feed = outbound_topic(record["envelope"]["source"])
    receipts = [step.codec.decode(v).record for topic, _, v, _ in produced if topic == feed]
    return str(receipts[0]["reason"])


@pytest.fixture(scope="module")
def step(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    return step_pipeline(tmp_path_factory.mktemp("auth"))


@pytest.fixture
def event() -> dict[str, Any]:
    record = report("bawaslu.33")
    record["envelope"]["event_time"] = EVENT_TIME
    return record


def test_a_valid_signature_is_accepted(step: Pipeline, event: dict[str, Any]) -> None:
    assert refused_with(step, event, signed(step, event)) == "accepted"


def test_an_unsigned_event_is_refused(step: Pipeline, event: dict[str, Any]) -> None:
    assert refused_with(step, event, step.codec.encode("ReportReceived", event)) == "unsigned"
    assert refused_with(step, event, signed(step, event) | {"signature": b""}) == "unsigned"


def test_a_bad_signature_is_refused(step: Pipeline, event: dict[str, Any]) -> None:
    wrapper = signed(step, event)
    wrapper["signature"] = bytes([wrapper["signature"][0] ^ 1]) + wrapper["signature"][1:]
    assert refused_with(step, event, wrapper) == "bad_signature"


def test_a_signature_made_without_its_context_is_told_what_to_sign(
    step: Pipeline, event: dict[str, Any]
) -> None:
    # The commonest slip of a client written in another language: signing the bare event
    # bytes. "Sign the exact bytes you publish" would send its author looking elsewhere.
    wrapper = signed(step, event)
    key = keyring(step).signing_key("bawaslu.33", EVENT_TIME)
    wrapper["signature"] = key.private.sign(wrapper["event"])
    assert refused_with(step, event, wrapper) == "bad_signature"
    assert "'kawal.event.v1', one zero byte, then the event bytes" in reason_given(
        step, event, wrapper
    )


def test_a_fingerprint_the_hub_does_not_know_is_told_how_to_compute_one(
    step: Pipeline, event: dict[str, Any]
) -> None:
    # A client in another language that fingerprints another form of the schema (named types
    # not inlined, attributes kept) is told what the fingerprint is taken of, for the wrapper
    # and for the event inside it alike; "deploy the writer's schema version" was the
    # operator's remedy, not the sender's.
    def other_fingerprint(value: bytes) -> bytes:
        return value[:2] + bytes([value[2] ^ 1]) + value[3:]

    wrapper = signed(step, event)
    value = other_fingerprint(step.codec.encode(SIGNED_EVENT, wrapper))
    assert refused_with(step, event, value) == "unknown_schema"
    inner = wrapper | {"event": other_fingerprint(wrapper["event"])}
    assert refused_with(step, event, inner) == "undecodable"
    for refused in (value, inner):
        reason = reason_given(step, event, refused)
        assert "schemas/releases/" in reason
        assert "Parsing Canonical Form with every named type inlined at its first use" in reason


def test_changed_bytes_under_a_good_signature_are_refused(
    step: Pipeline, event: dict[str, Any]
) -> None:
    other = report("bawaslu.33")
    other["envelope"] |= {"event_time": EVENT_TIME, "case_id": event["envelope"]["case_id"]}
    wrapper = signed(step, event) | {"event": signed(step, other)["event"]}
    assert refused_with(step, event, wrapper) == "bad_signature"


def test_an_unknown_key_is_refused(step: Pipeline, event: dict[str, Any]) -> None:
    stranger = fresh_key("bawaslu.33/ffffffffffffffff")
    assert refused_with(step, event, signed(step, event, stranger)) == "unknown_key"


KEY_PERIODS: dict[str, Callable[[SigningKey], KeyEntry]] = {
    "key_not_yet_valid": lambda key: entry_of(
        key, "bawaslu.33", valid_from=EVENT_TIME + timedelta(days=1)
    ),
    "key_expired": lambda key: entry_of(
        key,
        "bawaslu.33",
        valid_from=EVENT_TIME - timedelta(days=30),
        valid_until=EVENT_TIME - timedelta(days=1),
    ),
    "key_revoked": lambda key: entry_of(
        key,
        "bawaslu.33",
        valid_from=EVENT_TIME - timedelta(days=30),
        revoked_at=EVENT_TIME - timedelta(hours=1),
        reason="laptop lost",
    ),
}


@pytest.mark.parametrize("reason", KEY_PERIODS)
def test_a_key_not_valid_at_the_event_time_is_refused(
    step: Pipeline, event: dict[str, Any], reason: str
) -> None:
    key = fresh_key(f"bawaslu.33/{reason}")
    dated = with_keys(step, KEY_PERIODS[reason](key))
    assert refused_with(dated, event, signed(dated, event, key)) == reason


def test_a_revoked_key_vouches_for_nothing_received_after_its_revocation(
    step: Pipeline, event: dict[str, Any]
) -> None:
    # A leaked key's holder dates the event before the revocation; the record still reaches
    # the broker after it (raw_message stamps it now), so the key vouches for nothing.
    key = fresh_key("bawaslu.33/leaked")
    revoked_at = EVENT_TIME + timedelta(hours=1)
    leaked = entry_of(
        key,
        "bawaslu.33",
        valid_from=EVENT_TIME - timedelta(days=30),
        revoked_at=revoked_at,
        reason="key leaked",
    )
    dated = with_keys(step, leaked)
    assert refused_with(dated, event, signed(dated, event, key)) == "key_revoked"
    # Received before the revocation, the same event was the key's to vouch for.
    found = dated.rules.keys.key_for("bawaslu.33", key.key_id, EVENT_TIME, EVENT_TIME)
    assert isinstance(found, KeyEntry)
    late = dated.rules.keys.key_for("bawaslu.33", key.key_id, EVENT_TIME, revoked_at)
    assert isinstance(late, KeyRefusal)
    assert "after that, whatever time it claims" in late.detail


def test_disclosures_sealed_to_a_revoked_hub_key_are_refused_naming_the_key(
    step: Pipeline, event: dict[str, Any]
) -> None:
    # A sender on an old copy of the registry seals to the hub's withdrawn key; before, the
    # hub opened it and said nothing, and the sender went on sealing to a key that may leak.
    old = X25519PrivateKey.generate().public_key()
    withdrawn = EncryptionKeyEntry(
        "kawal/withdrawn",
        "kawal",
        old,
        EVENT_TIME - timedelta(days=30),
        revoked_at=EVENT_TIME + timedelta(hours=1),
        reason="hub key rotated",
    )
    known = keyring(step).registry
    registry = KeyRegistry([*known.entries(), *known.encryption_entries(), withdrawn])
    revoked = replace(step, rules=replace(step.rules, keys=registry))
    key = keyring(step).signing_key("bawaslu.33", EVENT_TIME)
    stale = SealingKey("kawal", withdrawn.id, old)
    wrapper = sign_event(step.codec.catalog, step.codec, key, "ReportReceived", event, stale)

    assert refused_with(revoked, event, wrapper) == "key_revoked"
    reason = reason_given(revoked, event, wrapper)
    assert reason.startswith("the disclosures are sealed to a revoked encryption key: ")
    assert "key kawal/withdrawn was revoked at" in reason
    assert "seal to the institution's current encryption key" in reason


@pytest.mark.parametrize(
    "ahead", [CLOCK_SKEW + timedelta(minutes=1), timedelta(days=365 * 178)], ids=["drift", "typo"]
)
def test_an_event_dated_after_it_reached_the_broker_is_refused(
    step: Pipeline, event: dict[str, Any], ahead: timedelta
) -> None:
    # raw_message stamps the record with the time now, as the broker would.
    event["envelope"]["event_time"] = datetime.now(UTC) + ahead
    assert refused_with(step, event, signed(step, event)) == "event_time_in_future"


def test_an_event_dated_within_the_clocks_drift_is_accepted(
    step: Pipeline, event: dict[str, Any]
) -> None:
    event["envelope"]["event_time"] = datetime.now(UTC) + CLOCK_SKEW - timedelta(minutes=1)
    assert refused_with(step, event, signed(step, event)) == "accepted"


def test_the_time_of_an_event_is_believed_only_once_it_is_authenticated(
    step: Pipeline, event: dict[str, Any]
) -> None:
    event["envelope"]["event_time"] = datetime.now(UTC) + timedelta(days=30)
    wrapper = signed(step, event)
    wrapper["signature"] = bytes([wrapper["signature"][0] ^ 1]) + wrapper["signature"][1:]
    assert refused_with(step, event, wrapper) == "bad_signature"


def test_a_ppk_signing_as_bkn_is_refused(step: Pipeline) -> None:
    forged = report("bawaslu.33")
    forged["envelope"] |= {"event_time": EVENT_TIME, "source": "bkn"}
    ppk_key = keyring(step).signing_key("ppk.3374", EVENT_TIME)
    assert refused_with(step, forged, signed(step, forged, ppk_key)) == "key_of_another_institution"


def test_an_event_in_the_hubs_name_signed_by_another_key_is_refused(step: Pipeline) -> None:
    forged = report("bawaslu.33")
    forged["envelope"] |= {"event_time": EVENT_TIME, "source": "kawal"}
    bkn_key = keyring(step).signing_key("bkn", EVENT_TIME)
    assert refused_with(step, forged, signed(step, forged, bkn_key)) == "key_of_another_institution"


def resealed(
    step: Pipeline, wrapper: dict[str, Any], change: Callable[[list[dict[str, str]]], None]
) -> dict[str, Any]:
    """``wrapper`` with its sealed disclosures opened, changed by ``change`` and sealed again."""
    ring, item = keyring(step), wrapper["sealed_disclosures"][0]
    catalog = step.codec.catalog
    disclosures = open_sealed(
        catalog, item, ring.decryption_key("kawal", item["key_id"]), wrapper["event"]
    )
    change(disclosures)
    to = hub_sealing_key(ring.registry, EVENT_TIME)
    return wrapper | {"sealed_disclosures": [seal(catalog, disclosures, to, wrapper["event"])]}


def test_a_disclosure_that_does_not_open_its_commitment_is_refused(
    step: Pipeline, event: dict[str, Any]
) -> None:
    def other_value(disclosures: list[dict[str, str]]) -> None:
        disclosures[0] |= {"value": "someone else"}

    assert refused_with(step, event, resealed(step, signed(step, event), other_value)) == (
        "disclosure_mismatch"
    )
    unsealed = signed(step, event) | {"sealed_disclosures": []}
    assert refused_with(step, event, unsealed) == "disclosure_mismatch"
    # Nothing sealed at all: the sender is told where the disclosures go, not only that one
    # is missing (which would send it to the refused `disclosures` field).
    reason = reason_given(step, event, unsealed)
    assert "sealed_disclosures is empty" in reason
    assert "hub's encryption key" in reason


def test_a_disclosure_of_a_field_that_is_not_personal_data_is_refused(
    step: Pipeline, event: dict[str, Any]
) -> None:
    def extra(disclosures: list[dict[str, str]]) -> None:
        disclosures.append({"field": "case_number", "salt": "00" * 16, "value": "x"})

    wrapper = resealed(step, signed(step, event), extra)
    assert refused_with(step, event, wrapper) == "disclosure_not_personal_data"


def test_personal_data_sent_in_clear_is_refused(step: Pipeline, event: dict[str, Any]) -> None:
    key = keyring(step).signing_key("bawaslu.33", EVENT_TIME)
    clear = step.codec.encode_canonical("ReportReceived", event)
    wrapper = {
        "format": 2,
        "event": clear,
        "key_id": key.key_id,
        "signature": key.sign(Context.EVENT, clear),
        "disclosures": [],
        "sealed_disclosures": [],
    }
    assert refused_with(step, event, wrapper) == "personal_data_in_clear"


def disclosed_in_clear(step: Pipeline, wrapper: dict[str, Any]) -> dict[str, Any]:
    """``wrapper`` with its disclosures opened from the hub's seal and sent in clear."""
    item = wrapper["sealed_disclosures"][0]
    key = keyring(step).decryption_key("kawal", item["key_id"])
    opened = open_sealed(step.codec.catalog, item, key, wrapper["event"])
    return wrapper | {"disclosures": opened, "sealed_disclosures": []}


def test_disclosures_in_clear_are_refused_in_either_format(
    step: Pipeline, event: dict[str, Any]
) -> None:
    in_clear = disclosed_in_clear(step, signed(step, event))
    assert refused_with(step, event, in_clear) == "disclosures_in_clear"
    assert refused_with(step, event, in_clear | {"format": 1}) == "disclosures_in_clear"


def test_disclosures_sealed_to_another_institution_are_refused(
    step: Pipeline, event: dict[str, Any]
) -> None:
    wrapper = signed(step, event)
    item = wrapper["sealed_disclosures"][0]
    bkn = keyring(step).registry.encryption_key("bkn", EVENT_TIME)
    assert not isinstance(bkn, KeyRefusal)
    to_bkn = item | {"recipient": "bkn", "key_id": bkn.id}
    assert refused_with(step, event, wrapper | {"sealed_disclosures": [to_bkn]}) == (
        "not_sealed_to_hub"
    )
    twice = wrapper | {"sealed_disclosures": [item, item]}
    assert refused_with(step, event, twice) == "not_sealed_to_hub"


def test_disclosures_that_do_not_open_are_refused(step: Pipeline, event: dict[str, Any]) -> None:
    wrapper = signed(step, event)
    item = wrapper["sealed_disclosures"][0]
    altered = item | {"ciphertext": bytes([item["ciphertext"][0] ^ 1]) + item["ciphertext"][1:]}
    assert refused_with(step, event, wrapper | {"sealed_disclosures": [altered]}) == "unsealable"
    bkn = keyring(step).registry.encryption_key("bkn", EVENT_TIME)
    assert not isinstance(bkn, KeyRefusal)
    not_the_hubs = item | {"key_id": bkn.id}
    assert refused_with(step, event, wrapper | {"sealed_disclosures": [not_the_hubs]}) == (
        "unsealable"
    )
    # Sealed for another event: the seal is bound to the bytes it came with.
    other = signed(step, report("bawaslu.33") | {"envelope": event["envelope"]})
    moved = wrapper | {"sealed_disclosures": other["sealed_disclosures"]}
    assert refused_with(step, event, moved) == "unsealable"


def test_a_dead_letter_never_holds_the_refused_record_in_clear(
    step: Pipeline, event: dict[str, Any]
) -> None:
    clear = step.codec.encode("ReportReceived", event)  # unsigned, personal data in clear
    produced = step.decide(CaseBatch({}), raw_message(step, event, clear, 0))
    [letter] = [v for topic, _, v, _ in produced if topic == DLQ]
    assert event["subject_nip"].encode() not in letter
    assert event["subject_name"].encode() not in letter


def test_without_a_hub_encryption_key_a_dead_letter_keeps_coordinates_only(
    step: Pipeline, event: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    known = keyring(step).registry
    signing_only = replace(step, rules=replace(step.rules, keys=KeyRegistry(known.entries())))
    clear = step.codec.encode("ReportReceived", event)
    produced = signing_only.decide(CaseBatch({}), raw_message(step, event, clear, 0))
    [letter] = [step.codec.decode(v).record for topic, _, v, _ in produced if topic == DLQ]
    assert (letter["payload"], letter["sealed_to"]) == (b"", "")
    assert letter["source_offset"] == 0
    assert "kept by its coordinates only" in caplog.text


def test_commitments_use_fresh_salts_of_128_bits(step: Pipeline, event: dict[str, Any]) -> None:
    _, first = commit(step.codec.catalog, "kawal.events.ReportReceived", event)
    _, second = commit(step.codec.catalog, "kawal.events.ReportReceived", event)
    assert all(len(bytes.fromhex(item["salt"])) >= 16 for item in first)
    assert {item["salt"] for item in first}.isdisjoint(item["salt"] for item in second)


def receipt_for(
    step: Pipeline, cases: CaseBatch, record: dict[str, Any], wrapper: dict[str, Any], offset: int
) -> dict[str, Any]:
    """The receipt ingress sends the sender of ``wrapper``, decided with the cases of ``cases``."""
    value = step.codec.encode(SIGNED_EVENT, wrapper)
    produced = step.decide(cases, raw_message(step, record, value, offset))
    sender = record["envelope"]["source"]
    decoded = [
        step.codec.decode(v) for topic, _, v, _ in produced if topic == outbound_topic(sender)
    ]
    [receipt] = [d.record for d in decoded if d.full_name == "kawal.Receipt"]
    return receipt


def test_a_refusal_after_authentication_shows_the_head_of_the_known_case(
    step: Pipeline, event: dict[str, Any]
) -> None:
    # docs/signing.md, "Receipts": the head when the sender was authenticated and the case is
    # known. The signature holds before the time and the disclosures are checked.
    cases = CaseBatch({})
    accepted = receipt_for(step, cases, event, signed(step, event), 0)
    assert accepted["status"] == "ACCEPTED"
    head = (accepted["seq"], accepted["hash"])

    def again() -> dict[str, Any]:
        later = report("bawaslu.33")
        later["envelope"] |= {"event_time": EVENT_TIME, "case_id": event["envelope"]["case_id"]}
        return later

    def other_value(disclosures: list[dict[str, str]]) -> None:
        disclosures[0] |= {"value": "someone else"}

    mismatch = again()
    wrapper = resealed(step, signed(step, mismatch), other_value)
    refused = receipt_for(step, cases, mismatch, wrapper, 1)
    assert refused["reason_code"] == "disclosure_mismatch"
    assert (refused["head_seq"], refused["head_hash"]) == head

    unsealable = again()
    wrapper = signed(step, unsealable)
    item = wrapper["sealed_disclosures"][0]
    altered = item | {"ciphertext": bytes([item["ciphertext"][0] ^ 1]) + item["ciphertext"][1:]}
    refused = receipt_for(step, cases, unsealable, wrapper | {"sealed_disclosures": [altered]}, 2)
    assert refused["reason_code"] == "unsealable"
    assert (refused["head_seq"], refused["head_hash"]) == head

    ahead = again()
    ahead["envelope"]["event_time"] = datetime.now(UTC) + CLOCK_SKEW + timedelta(minutes=1)
    refused = receipt_for(step, cases, ahead, signed(step, ahead), 3)
    assert refused["reason_code"] == "event_time_in_future"
    assert (refused["head_seq"], refused["head_hash"]) == head

    # Not authenticated: the head of a case is not shown to whoever names it.
    forged = again()
    wrapper = signed(step, forged)
    wrapper["signature"] = bytes([wrapper["signature"][0] ^ 1]) + wrapper["signature"][1:]
    refused = receipt_for(step, cases, forged, wrapper, 4)
    assert refused["reason_code"] == "bad_signature"
    assert (refused["head_seq"], refused["head_hash"]) == (None, None)


def test_a_signed_event_refused_before_it_is_opened_is_named_by_its_receipt(
    step: Pipeline, event: dict[str, Any]
) -> None:
    # kawal.Receipt.event_id is null only when the record could not be decoded.
    wrapper = signed(step, event)
    in_clear = disclosed_in_clear(step, wrapper)
    envelope = event["envelope"]
    named = (envelope["event_id"], envelope["case_id"], envelope["event_type"])
    for refused_wrapper, reason in [
        (in_clear, "disclosures_in_clear"),
        (wrapper | {"format": 1}, "unsigned"),
        (wrapper | {"format": 3}, "unsigned"),
    ]:
        receipt = receipt_for(step, CaseBatch({}), event, refused_wrapper, 0)
        assert receipt["reason_code"] == reason
        assert (receipt["event_id"], receipt["case_id"], receipt["event_type"]) == named
    garbage = wrapper | {"event": b"\xc3\x01" + b"\x00" * 12}
    receipt = receipt_for(step, CaseBatch({}), event, garbage, 0)
    assert receipt["reason_code"] == "undecodable"
    assert receipt["event_id"] is None
