// What every Node client of docs/signing.md needs first: bytes, hashes, the case id's UUIDv5,
// the repository's Avro schemas and the CRC-64-AVRO fingerprint of single-object encoding, as
// the specifications define them.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import avro from "avsc";

/** The id namespace of cases (docs/signing.md, Publishing an event). */
export const CASE_NAMESPACE = "2667678e-0dca-5d83-9062-4919555692a6";
export const utf8 = (s) => new Uint8Array(Buffer.from(s, "utf8"));
export const hex = (b) => Buffer.from(b).toString("hex");
export const unhex = (h) => new Uint8Array(Buffer.from(h, "hex"));
export const concat = (...parts) => new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p))));
export const sha256 = (b) => new Uint8Array(createHash("sha256").update(b).digest());

/** RFC 9562 UUIDv5: SHA-1 of namespace and name, version and variant bits set. */
export function uuidv5(namespace, name) {
  const h = createHash("sha1").update(unhex(namespace.replaceAll("-", ""))).update(utf8(name));
  const b = h.digest().subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const s = hex(b);
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

// CRC-64-AVRO (Rabin) of the Avro specification, little-endian as single-object encoding has it.
const EMPTY = 0xc15d213aa4d7a795n;
const TABLE = Array.from({ length: 256 }, (_, i) => {
  let fp = BigInt(i);
  for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n));
  return fp;
});

/** The 8-byte fingerprint of a schema's Parsing Canonical Form, ``text``. */
export function rabin(text) {
  let fp = EMPTY;
  for (const b of utf8(text)) fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(b)) & 0xffn)];
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(fp);
  return new Uint8Array(out);
}

// avsc's schema() is the Parsing Canonical Form, named types inlined at their first use.
export const fingerprint = (type) => rabin(JSON.stringify(type.schema()));

export const loadType = (file, registry = {}) =>
  avro.Type.forSchema(JSON.parse(readFileSync(file, "utf8")), { registry, wrapUnions: true });

/** The schemas of a folder, which name each other's types, in one registry. */
export function loadFolder(dir) {
  const pending = readdirSync(dir).filter((f) => f.endsWith(".avsc")).map((f) => join(dir, f));
  const registry = {};
  while (pending.length) {
    const before = pending.length;
    for (const file of [...pending]) {
      const attempt = { ...registry };
      try {
        loadType(file, attempt);
      } catch (error) {
        if (/undefined type name/.test(String(error))) continue;
        throw error;
      }
      Object.assign(registry, attempt);
      pending.splice(pending.indexOf(file), 1);
    }
    if (pending.length === before) throw new Error(`schemas of ${dir} name unknown types`);
  }
  return registry;
}
