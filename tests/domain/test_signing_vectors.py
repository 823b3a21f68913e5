"""The test vectors of docs/signing.md, recomputed from their inputs.

Each output is checked twice: with plain hashlib and cryptography calls, as a client in another
language would compute it, and through the hub's own functions, so neither can drift from the
published format.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import io
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fastavro
import pytest
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from schemas.catalog import default_catalog, schema_fingerprint
from schemas.codec import AvroCodec
from schemas.identity import KAWAL_CASE_NAMESPACE, case_id_for
from schemas.statements import ENTRY, statement_bytes
from streams.app import create_rules
from streams.domain.entries import EntryProblem, check_entry
from streams.domain.feed_keys import OpenedFeedKeys, open_feed_item
from streams.domain.keys import KeyEntry, KeyRegistry
from streams.domain.lifecycle import CaseLifecycle
from streams.domain.parties import check_report
from streams.domain.sealing import SealingError, open_sealed
from streams.hub.ingress import admit
from streams.settings import Settings
from tests.signing_vectors import regenerate

ROOT = Path(__file__).parents[2]
VECTORS = ROOT / "docs" / "signing-vectors.json"


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(VECTORS.read_text(encoding="utf-8"))
    return loaded


def private(party: dict[str, Any]) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(party["private_key_seed"]))


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@pytest.mark.parametrize("party", ["sender", "hub"])
def test_key_ids_derive_from_the_public_keys(vectors: dict[str, Any], party: str) -> None:
    described = vectors[party]
    public = raw_public(private(described))
    assert public.hex() == described["public_key"]
    fingerprint = hashlib.sha256(public).hexdigest()[:16]
    assert described["key_id"] == f"{described['institution']}/{fingerprint}"


def test_commitments_hash_the_salt_then_the_value(vectors: dict[str, Any]) -> None:
    for item in vectors["commitments"]:
        digest = hashlib.sha256(bytes.fromhex(item["salt"]) + item["value"].encode()).hexdigest()
        assert item["commitment"] == "sha256:" + digest
        assert len(bytes.fromhex(item["salt"])) >= 16


def test_the_committed_event_holds_the_commitments_and_its_signature_is_deterministic(
    vectors: dict[str, Any],
) -> None:
    event = bytes.fromhex(vectors["event"]["committed_bytes"])
    assert event[:2] == b"\xc3\x01"
    assert event[2:10].hex() == vectors["event"]["fingerprint"]
    record = AvroCodec(default_catalog()).decode(event).record
    for item in vectors["commitments"]:
        assert record[item["field"]] == item["commitment"]
    message = b"kawal.event.v1\x00" + event
    signature = bytes.fromhex(vectors["event"]["signature"])
    assert private(vectors["sender"]).sign(message) == signature
    private(vectors["sender"]).public_key().verify(signature, message)


def test_the_event_names_the_schema_file_whose_fingerprint_it_carries(
    vectors: dict[str, Any],
) -> None:
    # A client in another language builds the event from this file: the release it was
    # written with, which the hub still reads beside its current schema.
    schema = json.loads((ROOT / vectors["event"]["schema_file"]).read_text())
    assert schema["name"] == vectors["event"]["schema"]
    assert schema_fingerprint(schema).hex() == vectors["event"]["fingerprint"]


def test_the_event_record_in_clear_encodes_to_the_committed_bytes(
    vectors: dict[str, Any],
) -> None:
    # A client in another language builds the bytes from event.record (Avro JSON encoding of
    # the release schema), the commitments and the schema file alone.
    release = json.loads((ROOT / vectors["event"]["schema_file"]).read_text())
    # Logical types are read as their underlying values, as the JSON encoding gives them.
    bare = json.loads(json.dumps(release).replace('"logicalType"', '"_logicalType"'))
    parsed = fastavro.parse_schema(bare)
    text = io.StringIO(json.dumps(vectors["event"]["record"]))
    records: list[dict[str, Any]] = list(fastavro.json_reader(text, parsed))  # type: ignore[arg-type]
    [record] = records
    body = io.BytesIO()
    fastavro.schemaless_writer(body, parsed, record)
    fingerprint = bytes.fromhex(vectors["event"]["fingerprint"])
    committed = b"\xc3\x01" + fingerprint + body.getvalue()
    assert committed.hex() == vectors["event"]["committed_bytes"]
    for item in vectors["commitments"]:
        assert record[item["field"]] == item["commitment"]


def test_the_vector_case_id_is_the_one_the_document_derives(vectors: dict[str, Any]) -> None:
    # docs/signing.md: a case's case_id is the UUIDv5 of "<institution id>:<case number>".
    record = (
        AvroCodec(default_catalog())
        .decode(bytes.fromhex(vectors["event"]["committed_bytes"]))
        .record
    )
    envelope = record["envelope"]
    derived = case_id_for(envelope["source"], record["case_number"])
    name = f"{envelope['source']}:{record['case_number']}"
    assert derived == str(uuid.uuid5(KAWAL_CASE_NAMESPACE, name))
    assert envelope["case_id"] == derived
    assert vectors["entry"]["case_id"] == derived


def test_the_case_id_rule_of_the_document_is_the_hubs() -> None:
    document = (ROOT / "docs" / "signing.md").read_text()
    namespace = re.search(r"namespace\s+`([0-9a-f-]{36})`", document)
    assert namespace is not None
    assert uuid.UUID(namespace.group(1)) == KAWAL_CASE_NAMESPACE
    example = re.search(r"`(bawaslu\.33:[^`]+)` is\s+`([0-9a-f-]{36})`", document)
    assert example is not None
    assert case_id_for(*example.group(1).split(":", 1)) == example.group(2)


def test_the_entry_statement_hash_and_hub_signature(vectors: dict[str, Any]) -> None:
    entry, event = vectors["entry"], vectors["event"]
    statement = statement_bytes(
        ENTRY,
        {
            "case_id": entry["case_id"],
            "seq": entry["seq"],
            "prev_hash": entry["prev_hash"],
            "recorded_at": entry["recorded_at_ms"],
            "source_topic": entry["source_topic"],
            "source_partition": entry["source_partition"],
            "source_offset": entry["source_offset"],
            "key_id": vectors["sender"]["key_id"],
            "signature": bytes.fromhex(event["signature"]),
            "event": bytes.fromhex(event["committed_bytes"]),
        },
    )
    assert statement.hex() == entry["statement"]
    assert hashlib.sha256(statement).hexdigest() == entry["hash"]
    hub_signature = private(vectors["hub"]).sign(
        b"kawal.entry.v1\x00" + bytes.fromhex(entry["hash"])
    )
    assert hub_signature.hex() == entry["hub_signature"]


def test_the_hub_believes_the_vector_entry_and_reveals_its_values(vectors: dict[str, Any]) -> None:
    entry, event = vectors["entry"], vectors["event"]
    since = datetime(2000, 1, 1, tzinfo=UTC)
    registry = KeyRegistry(
        KeyEntry(
            vectors[p]["key_id"], vectors[p]["institution"], private(vectors[p]).public_key(), since
        )
        for p in ("sender", "hub")
    )
    audit_entry = {
        "case_id": entry["case_id"],
        "seq": entry["seq"],
        "event_id": "3f8e4c1a-2b7d-4e5f-9a6b-0c1d2e3f4a5b",
        "event_type": "ReportReceived",
        "prev_hash": entry["prev_hash"],
        "hash": entry["hash"],
        "event": bytes.fromhex(event["committed_bytes"]),
        "recorded_at": datetime(1970, 1, 1, tzinfo=UTC)
        + timedelta(milliseconds=entry["recorded_at_ms"]),
        "source_topic": entry["source_topic"],
        "source_partition": entry["source_partition"],
        "source_offset": entry["source_offset"],
        "key_id": vectors["sender"]["key_id"],
        "signature": bytes.fromhex(event["signature"]),
        "hub_key_id": vectors["hub"]["key_id"],
        "hub_signature": bytes.fromhex(entry["hub_signature"]),
        "disclosures": [
            {"field": c["field"], "salt": c["salt"], "value": c["value"]}
            for c in vectors["commitments"]
        ],
    }
    revealed = check_entry(AvroCodec(default_catalog()), registry, audit_entry)
    assert not isinstance(revealed, EntryProblem), revealed
    assert {c["field"]: revealed[c["field"]] for c in vectors["commitments"]} == {
        c["field"]: c["value"] for c in vectors["commitments"]
    }


def test_the_sealed_disclosures_open_with_plain_hpke_and_with_the_hub(
    vectors: dict[str, Any],
) -> None:
    sealed = vectors["sealed"]
    event = bytes.fromhex(vectors["event"]["committed_bytes"])
    info = b"kawal.disclosures.v1\x00" + hashlib.sha256(event).digest()
    assert sealed["info"] == info.hex()
    recipient = X25519PrivateKey.from_private_bytes(bytes.fromhex(sealed["recipient_private_key"]))
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
    ciphertext = bytes.fromhex(sealed["encapsulated_key"] + sealed["ciphertext"])
    assert suite.decrypt(ciphertext, recipient, info=info).hex() == sealed["plaintext"]
    item = {
        "recipient": sealed["recipient"],
        "key_id": sealed["key_id"],
        "encapsulated_key": bytes.fromhex(sealed["encapsulated_key"]),
        "ciphertext": bytes.fromhex(sealed["ciphertext"]),
    }
    opened = open_sealed(default_catalog(), item, recipient, event)
    expected = [{k: c[k] for k in ("field", "salt", "value")} for c in vectors["commitments"]]
    assert opened == expected
    with pytest.raises(SealingError, match=r"info 'kawal\.disclosures\.v1', a zero byte, then the"):
        open_sealed(default_catalog(), item, recipient, event + b"\x00")
    with pytest.raises(SealingError):
        open_sealed(default_catalog(), item, X25519PrivateKey.generate(), event)


def test_the_feed_disclosures_open_with_plain_hpke_and_chacha20_and_with_the_hub(
    vectors: dict[str, Any],
) -> None:
    feed = vectors["feed"]
    event = bytes.fromhex(vectors["event"]["committed_bytes"])
    grant_info = f"kawal.feed_key.v1\x00{feed['recipient']}\x00{feed['key_id']}".encode()
    assert feed["grant_info"] == grant_info.hex()
    aad = b"kawal.disclosures.v1\x00" + hashlib.sha256(event).digest()
    assert feed["aad"] == aad.hex()
    recipient = X25519PrivateKey.from_private_bytes(bytes.fromhex(feed["recipient_private_key"]))
    public = recipient.public_key().public_bytes_raw()
    assert public.hex() == feed["recipient_public_key"]
    assert feed["key_id"] == f"{feed['recipient']}/{hashlib.sha256(public).hexdigest()[:16]}"
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
    sealed_key = bytes.fromhex(feed["encapsulated_key"] + feed["sealed_feed_key"])
    feed_key = suite.decrypt(sealed_key, recipient, info=grant_info)
    assert feed_key.hex() == feed["feed_key"]
    nonce, plaintext = bytes.fromhex(feed["nonce"]), bytes.fromhex(feed["plaintext"])
    ciphertext = ChaCha20Poly1305(feed_key).encrypt(nonce, plaintext, aad)
    assert ciphertext.hex() == feed["ciphertext"]
    item = {
        k: bytes.fromhex(feed[k])
        for k in ("encapsulated_key", "sealed_feed_key", "nonce", "ciphertext")
    } | {"recipient": feed["recipient"], "key_id": feed["key_id"]}
    expected = [{k: c[k] for k in ("field", "salt", "value")} for c in vectors["commitments"]]
    opened = open_feed_item(default_catalog(), item, recipient, event, OpenedFeedKeys())
    assert opened == expected
    with pytest.raises(SealingError):
        open_feed_item(default_catalog(), item, recipient, event + b"\x00", OpenedFeedKeys())
    with pytest.raises(SealingError):
        open_feed_item(
            default_catalog(), item, X25519PrivateKey.generate(), event, OpenedFeedKeys()
        )


def test_every_reason_code_the_hub_gives_is_in_the_documents_table() -> None:
    # A client in another language learns the refusals from docs/signing.md alone.
    from streams.domain.reasons import Reason

    document = (ROOT / "docs" / "signing.md").read_text(encoding="utf-8")
    section = document.split("### Refusals", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    documented = {code for row in rows for code in re.findall(r"`([a-z_]+)`", row.split(" | ")[0])}
    assert {reason.value for reason in Reason} - documented == set()
    assert documented - {reason.value for reason in Reason} == set()


def test_the_feed_group_the_document_names_is_one_the_acls_let_the_institution_read() -> None:
    # A client in another language picks its consumer group from docs/signing.md alone.
    from streams.broker.acls import Operation, ResourceType, acl_matrix, permits
    from streams.domain.institutions import load_institutions

    document = (ROOT / "docs" / "signing.md").read_text(encoding="utf-8")
    [pattern] = re.findall(r"consumer group named\s+`([^`]+)`", document)
    group = pattern.replace("<institution>", "bawaslu.33").replace("<any name>", "my-system")
    bindings = acl_matrix(load_institutions())

    assert permits(bindings, "User:bawaslu.33", Operation.READ, ResourceType.GROUP, group)
    assert not permits(bindings, "User:bawaslu.33", Operation.READ, ResourceType.GROUP, "node-1")


def test_the_reporter_ref_is_the_pseudonym_derived_from_its_inputs(vectors: dict[str, Any]) -> None:
    # docs/events.md: 'reporter:' + the first 24 hex digits of HMAC-SHA256(key,
    # "kawal.reporter_ref.v1" 0x00 case_id 0x00 reference).
    pseudonym = vectors["reporter_pseudonym"]
    message = b"\x00".join(
        (b"kawal.reporter_ref.v1", pseudonym["case_id"].encode(), pseudonym["reference"].encode())
    )
    digest = hmac.new(bytes.fromhex(pseudonym["key"]), message, hashlib.sha256).hexdigest()
    assert pseudonym["pseudonym"] == "reporter:" + digest[:24]
    assert pseudonym["case_id"] == vectors["event"]["record"]["envelope"]["case_id"]
    assert vectors["event"]["record"]["reporter_ref"] == pseudonym["pseudonym"]


def test_the_hub_admits_the_vector_event_as_a_new_case(
    vectors: dict[str, Any], tmp_path: Path
) -> None:
    # A client written from the vectors builds what the hub takes: the sender's role may emit
    # the event, and the report names parties the hub can use (reporter_ref a pseudonym).
    rules = create_rules(Settings(home=tmp_path, broker_url="kafka://127.0.0.1:1"))
    decoded = AvroCodec(rules.catalog).decode(bytes.fromhex(vectors["event"]["committed_bytes"]))
    disclosed = {c["field"]: c["value"] for c in vectors["commitments"]}
    admitted = admit(rules, decoded, None, disclosed)
    assert isinstance(admitted, CaseLifecycle), admitted
    assert check_report(rules.institutions, decoded.record, disclosed) is None


def test_the_vectors_are_what_their_generator_writes(vectors: dict[str, Any]) -> None:
    # `python -m tests.signing_vectors` rewrites the file from its inputs: nothing in it was
    # edited by hand apart from them.
    assert regenerate(copy.deepcopy(vectors)) == vectors
