/**
 * npm run schema: writes schema/run-document.schema.json from the document's
 * TypeScript types (src/model/run-document.ts), so the schema and the types
 * cannot drift. Descriptions come from the doc comments; what a type cannot say
 * (a minimum, a pattern, an integer) comes from JSDoc tags the generator reads
 * (@minimum, @maximum, @pattern, @maxItems, @propertyNames, and this project's
 * @integer). A number tag (@minimum, @maximum, @integer) on a field that holds
 * numbers in an object or a list (`Record<Phase, number>`, `number[]`) holds
 * for each of those numbers. `--check` writes nothing and exits 1
 * when the checked-in schema differs from what the types generate.
 *
 * The output keeps the shape src/report/load-document.ts relies on: JSON
 * Schema 2020-12, definitions under `$defs`, the two document kinds at
 * `#/$defs/run` and `#/$defs/compare`, and no property the types do not name
 * (additionalProperties false on every object).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createGenerator } from 'ts-json-schema-generator';

const root = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
export const SCHEMA_FILE = root('schema/run-document.schema.json');

/** Type names as the schema has called them since v2 (load-document reads `run` and `compare`). */
const RENAMED: Record<string, string> = { RunDocument: 'run', CompareDocument: 'compare' };

const TITLE = 'repro run document';
const DESCRIPTION =
  'What `repro broken|correct|watch|drain` (kind: run) and `repro compare` (kind: compare) write with --json/--out, and what `repro report` and `--baseline` read. ' +
  'Every other format (summary, SVG, HTML, Markdown, JUnit, CSV) is a view of it. Units are in the field names or descriptions: fds are counts of open file descriptors, *Ms are milliseconds, *Kb are KiB. ' +
  "Generated from src/model/run-document.ts by `npm run schema`: edit the types, not this file. Each run carries its scenario's metric descriptors in its own `metrics` list, and repro checks every sample's metric keys against them when it reads a document. " +
  'Version 1 documents are still read: repro converts them on load.';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Tags that say something of a number. */
const NUMBER_TAGS = ['minimum', 'maximum', 'integer'];

const typesOf = (node: { [key: string]: Json }): Json[] => (Array.isArray(node.type) ? node.type : [node.type ?? null]);

/** `tags` copied onto every number schema inside `node`: its properties, the values of a record, the items of a list, the branches of a union. */
function intoNumbers(node: Json, tags: { [key: string]: Json }): Json {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return node;
  if (typesOf(node).includes('number')) return { ...node, ...tags };
  const out: { [key: string]: Json } = { ...node };
  const properties = node.properties;
  if (properties && typeof properties === 'object' && !Array.isArray(properties)) {
    out.properties = Object.fromEntries(Object.entries(properties).map(([name, inner]) => [name, intoNumbers(inner, tags)]));
  }
  if (node.additionalProperties !== undefined) out.additionalProperties = intoNumbers(node.additionalProperties, tags);
  if (node.items !== undefined) out.items = intoNumbers(node.items, tags);
  if (Array.isArray(node.anyOf)) out.anyOf = node.anyOf.map((inner) => intoNumbers(inner, tags));
  return out;
}

/**
 * A number tag on an object or a list moves onto the numbers it holds: JSON
 * Schema would apply `minimum` to the object itself, where it means nothing.
 */
function numberTagsInward(value: { [key: string]: Json }): { [key: string]: Json } {
  const types = typesOf(value);
  if (!types.includes('object') && !types.includes('array')) return value;
  const tags = Object.fromEntries(Object.entries(value).filter(([key]) => NUMBER_TAGS.includes(key)));
  if (Object.keys(tags).length === 0) return value;
  const rest = Object.fromEntries(Object.entries(value).filter(([key]) => !NUMBER_TAGS.includes(key)));
  return intoNumbers(rest, tags) as { [key: string]: Json };
}

/**
 * Every `#/definitions/X` becomes `#/$defs/<new name of X>`, and a union of
 * two non-null types (`string | number`) becomes an `anyOf`: ajv's strict mode,
 * which load-document uses, refuses a type list other than "T or null".
 * `measurement` is never required, so older documents still validate.
 */
function rewrite(value: Json): Json {
  if (Array.isArray(value)) return value.map(rewrite);
  if (value === null || typeof value !== 'object') return value;
  value = numberTagsInward(value);
  const out: { [key: string]: Json } = {};
  // @integer on a field: TypeScript has one number type, JSON Schema an integer (kept nullable: `number | null`).
  const integer = 'integer' in value;
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'integer') continue;
    if (integer && key === 'type') out.type = Array.isArray(inner) ? inner.map((t) => (t === 'number' ? 'integer' : t)) : inner === 'number' ? 'integer' : inner;
    else if (key === 'type' && Array.isArray(inner) && inner.filter((t) => t !== 'null').length > 1) {
      out.anyOf = inner.map((type) => ({ type }));
    } else if (key === 'required' && Array.isArray(inner)) {
      // Documents written before runs named their measurement have none: the loader derives it from their fields.
      out[key] = inner.filter((name) => name !== 'measurement');
    } else if (key === '$ref' && typeof inner === 'string') {
      const name = decodeURIComponent(inner.replace('#/definitions/', ''));
      out[key] = `#/$defs/${RENAMED[name] ?? name}`;
    } else out[key] = rewrite(inner);
  }
  return out;
}

/** The schema the types generate, as the text to check in. */
export function generateSchema(): string {
  const generated = createGenerator({
    path: root('src/model/run-document.ts'),
    tsconfig: root('tsconfig.json'),
    type: 'ReproDocument',
    expose: 'export',
    jsDoc: 'extended',
    topRef: true,
    additionalProperties: false,
    sortProps: true,
    skipTypeCheck: true,
    extraTags: ['integer'],
  }).createSchema('ReproDocument') as { definitions: Record<string, Json> };
  const defs: Record<string, Json> = {};
  for (const [name, definition] of Object.entries(generated.definitions)) {
    if (name === 'ReproDocument') continue;
    defs[RENAMED[name] ?? name] = rewrite(definition);
  }
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: TITLE,
    description: DESCRIPTION,
    oneOf: [{ $ref: '#/$defs/run' }, { $ref: '#/$defs/compare' }],
    $defs: defs,
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = generateSchema();
  if (process.argv.includes('--check')) {
    if (readFileSync(SCHEMA_FILE, 'utf8') !== text) {
      process.stderr.write('schema/run-document.schema.json differs from what the types generate: run npm run schema and commit it\n');
      process.exit(1);
    }
  } else writeFileSync(SCHEMA_FILE, text);
}
