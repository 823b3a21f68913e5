// A sender written in Node from docs/signing.md alone, and a keeper of tree heads from
// docs/tree-heads.md, run against docs/signing-vectors.json.
//
// usage: node vectors.mjs REPOSITORY [VECTORS_JSON]
// Prints one line per check ("ok <name>" or "FAIL <name>: got ..., want ...") and exits 1 if
// any fails. Nothing here comes from the hub's Python code: the schemas are read from the
// repository's files, CRC-64-AVRO is the Avro specification's, the primitives are libraries'.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import avro from "avsc";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import {
  CASE_NAMESPACE, concat, fingerprint, hex, loadFolder, loadType, sha256, unhex, utf8, uuidv5,
} from "./spec.mjs";

const commitment = (salt, value) => "sha256:" + hex(sha256(concat(salt, utf8(value))));
const signed = (context, payload) => concat(utf8(context), [0], payload);
const keyId = (institution, publicKey) => `${institution}/${hex(sha256(publicKey)).slice(0, 16)}`;
const disclosuresInfo = (eventBytes) => concat(utf8("kawal.disclosures.v1"), [0], sha256(eventBytes));
const suite = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Chacha20Poly1305(),
});
async function hpkeOpen(privateKey, enc, ciphertext, info) {
  const recipientKey = await suite.kem.importKey("raw", privateKey, false);
  return new Uint8Array(await suite.open({ recipientKey, enc, info }, ciphertext));
}

const [repo, vectorsPath = join(repo, "docs/signing-vectors.json")] = process.argv.slice(2);
const v = JSON.parse(readFileSync(vectorsPath, "utf8"));
let failed = 0;
function check(name, got, want) {
  if (got === want) {
    console.log(`ok ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name}: got ${got}, want ${want}`);
  }
}

// Keys: public key and key id from the 32-byte seed.
for (const who of ["sender", "hub"]) {
  const publicKey = ed25519.getPublicKey(unhex(v[who].private_key_seed));
  check(`${who}.public_key`, hex(publicKey), v[who].public_key);
  check(`${who}.key_id`, keyId(v[who].institution, publicKey), v[who].key_id);
}
for (const c of v.commitments) check(`commitment ${c.field}`, commitment(unhex(c.salt), c.value), c.commitment);

// Publishing, steps 1-4: the record in clear, committed with the vectors' salts, encoded, signed.
const schemaJson = JSON.parse(readFileSync(join(repo, v.event.schema_file), "utf8"));
const eventType = loadType(join(repo, v.event.schema_file));
const record = v.event.record;
check("event.schema", eventType.name, v.event.schema);
check("event.fingerprint", hex(fingerprint(eventType)), v.event.fingerprint);
check("event.case_id", uuidv5(CASE_NAMESPACE, `${record.envelope.source}:${record.case_number}`), record.envelope.case_id);
const personal = schemaJson.fields.filter((f) => f["kawal.personal_data"] === true).map((f) => f.name);
const byField = Object.fromEntries(v.commitments.map((c) => [c.field, c]));
const committed = structuredClone(record);
const disclosures = [];
for (const field of personal) {
  const c = byField[field];
  if (c === undefined) continue;
  const value = commitment(unhex(c.salt), c.value);
  committed[field] = typeof record[field] === "object" ? { string: value } : value;
  disclosures.push({ field, salt: c.salt, value: c.value });
}
check("event.record (committed)", JSON.stringify(committed), JSON.stringify(record));
const body = eventType.toBuffer(eventType.clone(committed, { wrapUnions: true }));
const eventBytes = concat([0xc3, 0x01], fingerprint(eventType), body);
check("event.committed_bytes", hex(eventBytes), v.event.committed_bytes);
const signature = ed25519.sign(signed("kawal.event.v1", eventBytes), unhex(v.sender.private_key_seed));
check("event.signature", hex(signature), v.event.signature);

// The first trail entry: the EntryV1 statement, its hash, the hub's signature.
const e = v.entry;
const entryType = loadType(join(repo, "schemas/statements/kawal.statement.EntryV1.avsc"));
const statement = entryType.toBuffer({
  case_id: e.case_id,
  seq: e.seq,
  prev_hash: e.prev_hash,
  recorded_at: e.recorded_at_ms,
  source_topic: e.source_topic,
  source_partition: e.source_partition,
  source_offset: e.source_offset,
  key_id: v.sender.key_id,
  signature: Buffer.from(signature),
  event: Buffer.from(eventBytes),
});
check("entry.statement", hex(statement), e.statement);
check("entry.hash", hex(sha256(statement)), e.hash);
const hubSignature = ed25519.sign(signed("kawal.entry.v1", sha256(statement)), unhex(v.hub.private_key_seed));
check("entry.hub_signature", hex(hubSignature), e.hub_signature);

// Step 5: the disclosures sealed to the hub; the seal is random, so it is checked by opening.
const registry = loadFolder(join(repo, "schemas/avro"));
const disclosureArray = avro.Type.forSchema({ type: "array", items: "kawal.Disclosure" }, { registry });
const s = v.sealed;
check("sealed.recipient_public_key", hex(x25519.getPublicKey(unhex(s.recipient_private_key))), s.recipient_public_key);
check("sealed.key_id", keyId(s.recipient, unhex(s.recipient_public_key)), s.key_id);
check("sealed.info", hex(disclosuresInfo(eventBytes)), s.info);
check("sealed.plaintext", hex(disclosureArray.toBuffer(disclosures)), s.plaintext);
const opened = await hpkeOpen(unhex(s.recipient_private_key), unhex(s.encapsulated_key), unhex(s.ciphertext), unhex(s.info));
check("sealed opens to plaintext", hex(opened), s.plaintext);
const recipientPublicKey = await suite.kem.deserializePublicKey(unhex(s.recipient_public_key));
const own = await suite.seal({ recipientPublicKey, info: disclosuresInfo(eventBytes) }, disclosureArray.toBuffer(disclosures));
const ownOpened = await hpkeOpen(unhex(s.recipient_private_key), new Uint8Array(own.enc), new Uint8Array(own.ct), unhex(s.info));
check("a seal of this client opens", hex(ownOpened), s.plaintext);

// The same disclosures as a feed item: the feed key opened, the ciphertext reproduced.
const f = v.feed;
check("feed.key_id", keyId(f.recipient, x25519.getPublicKey(unhex(f.recipient_private_key))), f.key_id);
check("feed.grant_info", hex(concat(utf8("kawal.feed_key.v1"), [0], utf8(f.recipient), [0], utf8(f.key_id))), f.grant_info);
const feedKey = await hpkeOpen(unhex(f.recipient_private_key), unhex(f.encapsulated_key), unhex(f.sealed_feed_key), unhex(f.grant_info));
check("feed.feed_key", hex(feedKey), f.feed_key);
check("feed.aad", hex(disclosuresInfo(eventBytes)), f.aad);
check("feed.plaintext", hex(disclosureArray.toBuffer(disclosures)), f.plaintext);
const feedCiphertext = chacha20poly1305(feedKey, unhex(f.nonce), unhex(f.aad)).encrypt(unhex(f.plaintext));
check("feed.ciphertext", hex(feedCiphertext), f.ciphertext);

// The tree of docs/tree-heads.md: leaf and node hashes, roots, the signed heads, the proofs.
const t = v.tree;
const leafHash = (data) => sha256(concat([0], data));
const nodeHash = (left, right) => sha256(concat([1], left, right));
const largestPowerBelow = (n) => 2 ** Math.floor(Math.log2(n - 1));
const treeRoot = (leaves) => leaves.length === 1 ? leafHash(leaves[0])
  : nodeHash(treeRoot(leaves.slice(0, largestPowerBelow(leaves.length))), treeRoot(leaves.slice(largestPowerBelow(leaves.length))));
const leaves = t.leaves.map(unhex);
check("tree.leaves[0] is the entry", t.leaves[0], v.entry.hash);
check("tree.leaf_hashes", JSON.stringify(leaves.map((l) => hex(leafHash(l)))), JSON.stringify(t.leaf_hashes));
const headType = loadType(join(repo, "schemas/statements/kawal.statement.TreeHeadV1.avsc"));
for (const h of t.heads) {
  check(`tree.head ${h.tree_size} root_hash`, hex(treeRoot(leaves.slice(0, h.tree_size))), h.root_hash);
  const headStatement = headType.toBuffer({ tree_size: h.tree_size, root_hash: Buffer.from(unhex(h.root_hash)), issued_at: h.issued_at_ms });
  check(`tree.head ${h.tree_size} statement`, hex(headStatement), h.statement);
  check(`tree.head ${h.tree_size} signature`, hex(ed25519.sign(signed("kawal.tree_head.v1", headStatement), unhex(v.hub.private_key_seed))), h.signature);
}
// RFC 9162 §2.1.3.2 and §2.1.4.2, with numbers small enough for JavaScript's bit operators.
function inclusionRoot(index, size, leaf, proof) {
  let fn = index, sn = size - 1, r = leafHash(leaf);
  for (const p of proof) {
    if (fn & 1 || fn === sn) {
      r = nodeHash(p, r);
      while (!(fn & 1) && fn !== 0) { fn >>= 1; sn >>= 1; }
    } else r = nodeHash(r, p);
    fn >>= 1; sn >>= 1;
  }
  return sn === 0 ? hex(r) : "";
}
function consistent(oldSize, size, oldRoot, root, proof) {
  const path = (oldSize & (oldSize - 1)) === 0 ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1, sn = size - 1;
  while (fn & 1) { fn >>= 1; sn >>= 1; }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn & 1 || fn === sn) {
      fr = nodeHash(c, fr); sr = nodeHash(c, sr);
      while (!(fn & 1) && fn !== 0) { fn >>= 1; sn >>= 1; }
    } else sr = nodeHash(sr, c);
    fn >>= 1; sn >>= 1;
  }
  return sn === 0 && hex(fr) === hex(oldRoot) && hex(sr) === hex(root);
}
const [oldHead, newHead] = t.heads;
check("tree.consistency", consistent(newHead.previous_size, newHead.tree_size, unhex(oldHead.root_hash), unhex(newHead.root_hash), newHead.consistency.map(unhex)), true);
for (const name of ["inclusion", "inclusion_last"]) {
  const i = t[name];
  check(`tree.${name}`, inclusionRoot(i.index, i.tree_size, leaves[i.index], i.proof.map(unhex)), newHead.root_hash);
}
const heads = avro.Type.forSchema(JSON.parse(readFileSync(join(repo, "schemas/avro/kawal.TreeHead.avsc"), "utf8")));
const headRecord = unhex(t.heads_record);
check("tree.heads_record fingerprint", hex(headRecord.slice(0, 10)), "c301" + hex(fingerprint(heads)));
const kept = JSON.parse(newHead.kept);
const decodedHead = heads.fromBuffer(Buffer.from(headRecord.slice(10)));
check("tree.heads_record", JSON.stringify({ ...decodedHead, issued_at: new Date(Number(decodedHead.issued_at)).toISOString(), signature: hex(decodedHead.signature) }),
  JSON.stringify({ ...kept, issued_at: new Date(kept.issued_at).toISOString() }));

console.log(failed ? `${failed} check(s) failed` : "every vector matches");
process.exit(failed ? 1 : 0);
