// A Bawaslu system's sender written in Node from docs/signing.md alone, against a running hub.
//
// usage: node publish.mjs REPOSITORY KAWAL_HOME BROKER INSTITUTION [SLIP ...]
// Builds a ReportReceived of INSTITUTION for each SLIP ("none": done right; else one of SLIPS,
// a mistake an integrator makes), commits its personal data, signs it, seals the disclosures to
// the hub and publishes it on BROKER (host:port) with KafkaJS's default partitioner. Then reads
// INSTITUTION's feed for each record's receipt and checks it: an acceptance's hash recomputed
// from what was sent, the hub's entry signature and the case's head; a rejection's signature
// over its RejectionV1 statement. Prints one JSON line per record and exits 1 if a receipt is
// missing or does not verify. Keys: KAWAL_HOME/keys/registry.toml and the private keys beside it.
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import avro from "avsc";
import { ed25519 } from "@noble/curves/ed25519.js";
import { CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import kafkajs from "kafkajs";
import {
  CASE_NAMESPACE, concat, fingerprint, hex, loadFolder, rabin, sha256, unhex, utf8, uuidv5,
} from "./spec.mjs";

const [repo, home, broker, institution, ...asked] = process.argv.slice(2);
const SLIPS = [
  "none", "wrong_fingerprint", "no_context", "short_salt", "field_in_clear", "upper_hex",
  "salt_hex_text", "encryption_key_id", "wrong_partition", "upper_key", "random_case_id",
  "ingest_time", "event_time_seconds", "info_without_hash",
];
const signed = (context, payload) => concat(utf8(context), [0], payload);
const un = (u) => (u === null || u === undefined ? null : Object.values(u)[0]);
const singleObject = (type, record) => concat([0xc3, 0x01], fingerprint(type), type.toBuffer(record));

const types = loadFolder(join(repo, "schemas/avro"));
const statements = loadFolder(join(repo, "schemas/statements"));
const disclosureArray = avro.Type.forSchema({ type: "array", items: "kawal.Disclosure" }, { registry: { ...types } });

// The key registry: the [[key]] tables of docs/signing.md, read for the few fields used here.
const keys = readFileSync(join(home, "keys/registry.toml"), "utf8").split("[[key]]").slice(1).map((table) => {
  const entry = { use: "signing" };
  for (const m of table.matchAll(/^(\w+)\s*=\s*("?)([^"\n#]*)\2/gm)) entry[m[1]] = m[3].trim();
  return entry;
});
/** The key of `inst` and `use` valid now, during a rotation the one valid from later. */
function keyOf(inst, use) {
  const now = Date.now();
  const valid = keys.filter((k) => k.institution === inst && k.use === use && Date.parse(k.valid_from) <= now
    && !(k.valid_until && Date.parse(k.valid_until) <= now) && !(k.revoked_at && Date.parse(k.revoked_at) <= now));
  return valid.sort((a, b) => Date.parse(b.valid_from) - Date.parse(a.valid_from))[0];
}
/** The raw 32-byte private key of a PKCS#8 PEM: the last 32 bytes of the DER. */
function privateKey(inst, id) {
  const pem = readFileSync(join(home, "keys", inst, `${id.split("/")[1]}.pem`), "utf8");
  return new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64").subarray(-32));
}
const signingKey = keyOf(institution, "signing");
const seed = privateKey(institution, signingKey.id);
const hubEncryption = keyOf("kawal", "encryption");
/**
 * The hub's signing key `id`, if the registry lists it valid and not revoked at `moment` (ms),
 * else null. A verifier takes the key a record names, never the newest: during a rotation the
 * hub signs on with its key in use until that key's validity ends (docs/signing.md, Keys).
 */
function hubKeyAt(id, moment) {
  const k = keys.find((e) => e.id === id && e.institution === "kawal" && e.use === "signing");
  if (!k || Date.parse(k.valid_from) > moment || (k.valid_until && Date.parse(k.valid_until) <= moment)
    || (k.revoked_at && Date.parse(k.revoked_at) <= moment)) return null;
  return new Uint8Array(Buffer.from(k.public_key, "base64"));
}
/** Whether `signature` is the hub's over `message`, with the key `id` valid at `moment`. */
function byHub(id, moment, signature, message) {
  const key = hubKeyAt(id, +new Date(moment));
  return key !== null && ed25519.verify(signature, message, key);
}
const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() });

/** A report in clear, as Bawaslu's system holds it. */
function report(slip) {
  const caseNumber = `LP/NODE/${randomBytes(6).toString("hex")}`;
  const now = Date.now();
  return {
    envelope: {
      event_id: randomUUID(),
      case_id: slip === "random_case_id" ? randomUUID() : uuidv5(CASE_NAMESPACE, `${institution}:${caseNumber}`),
      event_type: "ReportReceived",
      event_time: slip === "event_time_seconds" ? Math.floor(now / 1000) : now,
      ingest_time: slip === "ingest_time" ? { long: now } : null,
      source: institution, actor_ref: "officer:7f3a", traceparent: null, signature: null,
    },
    case_number: caseNumber, election: "pilkada-2024", region_code: "3374", employing_agency: "ppk.3374",
    violation: "ETHICS_SOCIAL_MEDIA_CAMPAIGN", discovered_on: Math.floor(now / 86400000) - 1,
    summary: "Mengunggah ajakan memilih calon di akun pribadi", subject_nip: "198503102010011002",
    subject_name: "Budi Santoso", reporter_ref: "reporter:" + randomBytes(12).toString("hex"),
    reporter_identity: { string: "Siti Aminah" }, channel: "WEB_FORM", evidence: [], evidence_keys: null,
  };
}

/** Publishing, steps 1-5 of docs/signing.md; `slip` gets one of them wrong. */
async function build(slip) {
  const clear = report(slip);
  const type = types["kawal.events.ReportReceived"];
  const schemaJson = JSON.parse(readFileSync(join(repo, "schemas/avro/kawal.events.ReportReceived.avsc"), "utf8"));
  const committed = structuredClone(clear);
  const disclosures = [];
  for (const { name } of schemaJson.fields.filter((f) => f["kawal.personal_data"] === true)) {
    const raw = clear[name];
    if (raw === null || (slip === "field_in_clear" && name === "subject_name")) continue;
    const value = typeof raw === "object" ? raw.string : raw;
    const salt = randomBytes(slip === "short_salt" ? 8 : 16);
    let digest = hex(sha256(concat(salt, utf8(value))));
    if (slip === "upper_hex") digest = digest.toUpperCase();
    if (slip === "salt_hex_text") digest = hex(sha256(utf8(hex(salt) + value)));
    committed[name] = typeof raw === "object" ? { string: "sha256:" + digest } : "sha256:" + digest;
    disclosures.push({ field: name, salt: hex(salt), value });
  }
  const body = type.toBuffer(committed);
  const fp = slip === "wrong_fingerprint" ? rabin(JSON.stringify(schemaJson)) : fingerprint(type);
  const eventBytes = concat([0xc3, 0x01], fp, body);
  const context = slip === "no_context" ? new Uint8Array(0) : utf8("kawal.event.v1\x00");
  const signature = ed25519.sign(concat(context, eventBytes), seed);
  const recipientPublicKey = await suite.kem.deserializePublicKey(new Uint8Array(Buffer.from(hubEncryption.public_key, "base64")));
  const info = slip === "info_without_hash" ? utf8("kawal.disclosures.v1") : concat(utf8("kawal.disclosures.v1"), [0], sha256(eventBytes));
  const sealed = await suite.seal({ recipientPublicKey, info }, disclosureArray.toBuffer(disclosures));
  const keyId = slip === "encryption_key_id" ? keyOf(institution, "encryption").id : signingKey.id;
  const wrapper = {
    format: 2, event: Buffer.from(eventBytes), key_id: keyId, signature: Buffer.from(signature), disclosures: [],
    sealed_disclosures: [{ recipient: "kawal", key_id: hubEncryption.id, encapsulated_key: Buffer.from(sealed.enc), ciphertext: Buffer.from(sealed.ct) }],
  };
  const caseId = clear.envelope.case_id;
  return { slip, caseId, eventBytes, signature, keyId, value: singleObject(types["kawal.SignedEvent"], wrapper) };
}

const kafka = new kafkajs.Kafka({ clientId: `node-${institution}`, brokers: [broker], logLevel: kafkajs.logLevel.NOTHING });
const topic = `kawal.inbound.${institution}`;
const admin = kafka.admin();
await admin.connect();
const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
await admin.disconnect();
const producer = kafka.producer();
await producer.connect();
const sent = new Map();
for (const slip of asked.length ? asked : ["none"]) {
  if (!SLIPS.includes(slip)) throw new Error(`unknown slip ${slip}; one of ${SLIPS.join(", ")}`);
  const built = await build(slip);
  const message = { key: slip === "upper_key" ? built.caseId.toUpperCase() : built.caseId, value: Buffer.from(built.value) };
  if (slip === "wrong_partition") {
    const partitionMetadata = meta.partitions.map((p) => ({ partitionId: p.partitionId, leader: p.leader }));
    const right = kafkajs.Partitioners.DefaultPartitioner()({ topic, partitionMetadata, message });
    message.partition = (right + 1) % meta.partitions.length;
  }
  const [ack] = await producer.send({ topic, messages: [message] });
  sent.set(`${ack.partition}:${ack.baseOffset}`, built);
}
await producer.disconnect();

/** What a receipt says, and whether it verifies (docs/signing.md, Receipts). */
function check(s, r) {
  const out = { slip: s.slip, status: r.status, reason_code: un(r.reason_code), reason: un(r.reason) };
  if (r.status === "ACCEPTED") {
    const statement = statements["kawal.statement.EntryV1"].toBuffer({
      case_id: s.caseId, seq: un(r.seq), prev_hash: un(r.prev_hash), recorded_at: un(r.recorded_at),
      source_topic: r.source_topic, source_partition: r.source_partition, source_offset: r.source_offset,
      key_id: s.keyId, signature: Buffer.from(s.signature), event: Buffer.from(s.eventBytes),
    });
    const hash = hex(sha256(statement));
    out.verified = hash === un(r.hash) && un(r.head_hash) === hash && un(r.head_seq) === un(r.seq)
      && (un(r.seq) !== 1 || un(r.prev_hash) === "0".repeat(64))
      && byHub(r.hub_key_id, un(r.recorded_at), r.hub_signature, signed("kawal.entry.v1", unhex(hash)));
  } else {
    const rejection = statements["kawal.statement.RejectionV1"];
    const statement = rejection.toBuffer(rejection.clone({
      event_id: un(r.event_id), case_id: un(r.case_id), event_type: un(r.event_type),
      reason_code: un(r.reason_code), reason: un(r.reason), source_topic: r.source_topic,
      source_partition: r.source_partition, source_offset: r.source_offset,
      head_seq: un(r.head_seq), head_hash: un(r.head_hash), issued_at: r.issued_at,
    }, { wrapUnions: true }));
    out.verified = byHub(r.hub_key_id, r.issued_at, r.hub_signature, signed("kawal.rejection.v1", statement));
  }
  return out;
}

// The feed holds kawal.AuditEntry and kawal.Receipt records: told apart by their fingerprint.
const receipts = new Map([[hex(fingerprint(types["kawal.Receipt"])), types["kawal.Receipt"]]]);
for (const file of readdirSync(join(repo, "schemas/releases/kawal.Receipt")).filter((f) => f.endsWith(".avsc"))) {
  const type = avro.Type.forSchema(JSON.parse(readFileSync(join(repo, "schemas/releases/kawal.Receipt", file), "utf8")), { wrapUnions: true });
  receipts.set(hex(fingerprint(type)), type);
}
// The groups an institution may read in on a cluster with ACLs (docs/signing.md, Receipts).
const consumer = kafka.consumer({ groupId: `kawal-connector:${institution}:node-${randomUUID()}` });
await consumer.connect();
await consumer.subscribe({ topic: `kawal.outbound.${institution}`, fromBeginning: true });
let failed = 0;
const answered = new Promise((resolve) => {
  consumer.run({
    eachMessage: async ({ message: { value } }) => {
      const type = value[0] === 0xc3 && value[1] === 0x01 ? receipts.get(hex(value.subarray(2, 10))) : undefined;
      if (type === undefined) return;
      const r = type.fromBuffer(value.subarray(10));
      const s = r.source_topic === topic ? sent.get(`${r.source_partition}:${r.source_offset}`) : undefined;
      if (s === undefined) return;
      sent.delete(`${r.source_partition}:${r.source_offset}`);
      const out = check(s, r);
      if (!out.verified) failed += 1;
      console.log(JSON.stringify(out));
      if (sent.size === 0) resolve();
    },
  });
});
await Promise.race([answered, new Promise((resolve) => setTimeout(resolve, 90_000))]);
for (const s of sent.values()) {
  failed += 1;
  console.log(JSON.stringify({ slip: s.slip, status: "NO_RECEIPT" }));
}
await consumer.disconnect();
process.exit(failed ? 1 : 0);
