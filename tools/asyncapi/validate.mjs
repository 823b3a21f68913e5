// Validates AsyncAPI documents with the official AsyncAPI tooling, offline:
//   1. @asyncapi/parser: the document against the @asyncapi/specs JSON Schema of its version,
//      $ref resolution, and the parser's Spectral rules (the checks AsyncAPI Studio and the
//      AsyncAPI CLI run);
//   2. every multi-format schema object ({schemaFormat, schema}) with the schema parser
//      registered for its format, here @asyncapi/avro-schema-parser (avsc). Parser 3.x runs
//      format validation only for AsyncAPI 2 documents, so for 3.x it is done here, through the
//      same SchemaParser.validate() interface.
//
// Usage: node tools/asyncapi/validate.mjs FILE...
// Prints one JSON line per file on stdout: {"file", "valid", "diagnostics": [...]}, where each
// diagnostic has severity (error, warning, info, hint), code, path and message.
// Exit status: 0 all files valid, 1 some file has errors, 2 usage or I/O error.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

// The packages ship CommonJS; createRequire avoids depending on their ESM interop.
const require = createRequire(import.meta.url);
const { Parser } = require('@asyncapi/parser');
const { AvroSchemaParser } = require('@asyncapi/avro-schema-parser');
const yaml = require('js-yaml');

// Spectral's numeric severities.
const SEVERITY = ['error', 'warning', 'info', 'hint'];

function describe(diagnostic) {
  return {
    severity: SEVERITY[diagnostic.severity] ?? String(diagnostic.severity),
    code: String(diagnostic.code),
    path: diagnostic.path.join('/'),
    message: diagnostic.message,
  };
}

// Yields [path, {schemaFormat, schema}] for every multi-format schema object in the document.
function* multiFormatSchemas(node, path = []) {
  if (node === null || typeof node !== 'object') return;
  if (typeof node.schemaFormat === 'string' && 'schema' in node) {
    yield [path, node];
    return; // the schema itself is data of its own format, not AsyncAPI
  }
  for (const [key, value] of Object.entries(node)) {
    yield* multiFormatSchemas(value, [...path, key]);
  }
}

async function validateFormats(parser, data) {
  const found = [];
  for (const [path, { schemaFormat, schema }] of multiFormatSchemas(data)) {
    const schemaParser = parser.parserRegistry.get(schemaFormat);
    const where = [...path, 'schema'];
    if (schemaParser === undefined) {
      found.push({ severity: 'error', code: 'unknown-schema-format', path: where.join('/'),
        message: `no schema parser registered for schemaFormat ${schemaFormat}` });
      continue;
    }
    const input = { asyncapi: undefined, data: schema, meta: {}, path: where, schemaFormat };
    for (const problem of await schemaParser.validate(input)) {
      found.push({ severity: 'error', code: 'invalid-schema', path: where.join('/'),
        message: `${schemaFormat}: ${problem.message}` });
    }
  }
  return found;
}

async function validate(parser, file) {
  const text = await readFile(file, 'utf8');
  const { diagnostics } = await parser.parse(text, { source: file });
  const described = diagnostics.map(describe);
  let data = null;
  try {
    data = yaml.load(text);
  } catch {
    // Not YAML: the parser has already reported it as an error.
  }
  described.push(...(await validateFormats(parser, data)));
  return { file, valid: !described.some((d) => d.severity === 'error'), diagnostics: described };
}

async function main(files) {
  if (files.length === 0) {
    console.error('usage: node tools/asyncapi/validate.mjs FILE...');
    return 2;
  }
  const parser = new Parser();
  parser.registerSchemaParser(AvroSchemaParser());
  let status = 0;
  for (const file of files) {
    const result = await validate(parser, file);
    console.log(JSON.stringify(result));
    if (!result.valid) status = 1;
  }
  return status;
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error) => {
    console.error(`validate.mjs: ${error.message}`);
    process.exitCode = 2;
  },
);
