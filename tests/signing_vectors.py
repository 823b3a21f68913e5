"""Writes docs/signing-vectors.json again from its inputs: ``python -m tests.signing_vectors``.

The inputs are the vectors' own: the two Ed25519 seeds, the salts and values of the
commitments, the event's record in clear (its reporter_ref the pseudonym derived from
``reporter_pseudonym``), the entry's coordinates, the X25519 keys, the feed key and nonce, the
tree's other leaves and the heads' sizes and times. Every output follows from them; the HPKE
seal of the disclosures to the hub draws a fresh ephemeral key, so it is kept while it still
opens for the event and sealed again only when the event's bytes change. Change an input in the
file, run this, and tests/domain/test_signing_vectors*.py and test_tree_head_vectors.py check
the result.
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fastavro
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from connectors.pseudonyms import case_pseudonym
from schemas.catalog import default_catalog, schema_fingerprint
from schemas.codec import AvroCodec
from schemas.statements import ENTRY, statement_bytes
from streams.domain.merkle import MerkleLog
from streams.domain.sealing import SUITE, encode_disclosures, info_for
from streams.domain.tree_heads import SignedTreeHead, head_statement

ROOT = Path(__file__).parents[1]
VECTORS = ROOT / "docs" / "signing-vectors.json"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _seed(party: dict[str, Any]) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(party["private_key_seed"]))


def _committed_bytes(event: dict[str, Any]) -> bytes:
    """The record in clear, encoded with its release schema in single-object encoding."""
    release = json.loads((ROOT / event["schema_file"]).read_text(encoding="utf-8"))
    bare = json.loads(json.dumps(release).replace('"logicalType"', '"_logicalType"'))
    parsed = fastavro.parse_schema(bare)
    text = io.StringIO(json.dumps(event["record"]))
    [record] = list(fastavro.json_reader(text, parsed))
    body = io.BytesIO()
    fastavro.schemaless_writer(body, parsed, record)
    return b"\xc3\x01" + schema_fingerprint(release) + body.getvalue()


def _event(vectors: dict[str, Any]) -> bytes:
    """Derives the pseudonym, commitments, bytes and signature of the event; its bytes."""
    pseudonym, event = vectors["reporter_pseudonym"], vectors["event"]
    record = event["record"]
    pseudonym["case_id"] = record["envelope"]["case_id"]
    pseudonym["pseudonym"] = case_pseudonym(
        bytes.fromhex(pseudonym["key"]), pseudonym["case_id"], pseudonym["reference"]
    )
    record["reporter_ref"] = pseudonym["pseudonym"]
    for item in vectors["commitments"]:
        digest = hashlib.sha256(bytes.fromhex(item["salt"]) + item["value"].encode()).hexdigest()
        item["commitment"] = "sha256:" + digest
        field = record[item["field"]]
        record[item["field"]] = (
            {"string": item["commitment"]} if isinstance(field, dict) else (item["commitment"])
        )
    committed = _committed_bytes(event)
    event["fingerprint"] = committed[2:10].hex()
    event["committed_bytes"] = committed.hex()
    event["signature"] = _seed(vectors["sender"]).sign(b"kawal.event.v1\x00" + committed).hex()
    return committed


def _entry(vectors: dict[str, Any], committed: bytes) -> None:
    entry = vectors["entry"]
    fields = {
        "recorded_at": entry["recorded_at_ms"],
        "key_id": vectors["sender"]["key_id"],
        "signature": bytes.fromhex(vectors["event"]["signature"]),
        "event": committed,
    }
    names = ("case_id", "seq", "prev_hash", "source_topic", "source_partition", "source_offset")
    statement = statement_bytes(ENTRY, {name: entry[name] for name in names} | fields)
    entry["statement"] = statement.hex()
    entry["hash"] = hashlib.sha256(statement).hexdigest()
    message = b"kawal.entry.v1\x00" + bytes.fromhex(entry["hash"])
    entry["hub_signature"] = _seed(vectors["hub"]).sign(message).hex()


def _sealed(vectors: dict[str, Any], committed: bytes, plain: bytes) -> None:
    """The disclosures sealed to the hub: kept while they still open for the event."""
    sealed = vectors["sealed"]
    info = info_for(committed)
    private = X25519PrivateKey.from_private_bytes(bytes.fromhex(sealed["recipient_private_key"]))
    try:
        kept = bytes.fromhex(sealed["encapsulated_key"] + sealed["ciphertext"])
        if SUITE.decrypt(kept, private, info=info) == plain:
            return
    except (ValueError, InvalidTag):
        pass
    fresh = SUITE.encrypt(plain, private.public_key(), info=info)
    sealed |= {
        "info": info.hex(),
        "plaintext": plain.hex(),
        "encapsulated_key": fresh[:32].hex(),
        "ciphertext": fresh[32:].hex(),
    }


def _feed(vectors: dict[str, Any], committed: bytes, plain: bytes) -> None:
    feed = vectors["feed"]
    aad = info_for(committed)
    cipher = ChaCha20Poly1305(bytes.fromhex(feed["feed_key"]))
    feed["aad"], feed["plaintext"] = aad.hex(), plain.hex()
    feed["ciphertext"] = cipher.encrypt(bytes.fromhex(feed["nonce"]), plain, aad).hex()


def _tree(vectors: dict[str, Any]) -> None:
    tree, hub = vectors["tree"], vectors["hub"]
    leaves = [bytes.fromhex(vectors["entry"]["hash"])] + [
        hashlib.sha256(f"kawal vector entry {i}".encode()).digest()
        for i in range(1, len(tree["leaves"]))
    ]
    log = MerkleLog(leaves)
    tree["leaves"] = [leaf.hex() for leaf in leaves]
    tree["leaf_hashes"] = [log.leaf_hash(i).hex() for i in range(len(log))]
    heads = [_head(log, hub, head) for head in tree["heads"]]
    tree["heads_record"] = AvroCodec(default_catalog()).encode("kawal.TreeHead", heads[-1]).hex()
    for name in ("inclusion", "inclusion_last"):
        proof = tree[name]
        steps = log.inclusion_proof(proof["index"], proof["tree_size"])
        proof["proof"] = [step.hex() for step in steps]


def _head(log: MerkleLog, hub: dict[str, Any], head: dict[str, Any]) -> dict[str, Any]:
    """Signs one head of the vectors' log; its ``kawal.TreeHead`` record."""
    size, previous = head["tree_size"], head["previous_size"]
    issued_at = EPOCH + timedelta(milliseconds=head["issued_at_ms"])
    root = log.root(size)
    statement = head_statement(size, root, issued_at)
    signature = _seed(hub).sign(b"kawal.tree_head.v1\x00" + statement)
    proof = tuple(log.consistency_proof(previous, size)) if previous else ()
    signed = SignedTreeHead(size, root, issued_at, hub["key_id"], signature, previous, proof)
    head |= {
        "root_hash": root.hex(),
        "statement": statement.hex(),
        "signature": signature.hex(),
        "consistency": [item.hex() for item in proof],
        "kept": signed.to_json(),
    }
    return signed.to_record()


def regenerate(vectors: dict[str, Any]) -> dict[str, Any]:
    """``vectors`` with every output recomputed from its inputs (changed in place)."""
    committed = _event(vectors)
    disclosures = [{k: c[k] for k in ("field", "salt", "value")} for c in vectors["commitments"]]
    plain = encode_disclosures(default_catalog(), disclosures)
    _entry(vectors, committed)
    _sealed(vectors, committed, plain)
    _feed(vectors, committed, plain)
    _tree(vectors)
    return vectors


def main() -> None:
    """Rewrites docs/signing-vectors.json from its inputs."""
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))
    VECTORS.write_text(json.dumps(regenerate(vectors), indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
