// The JSON Schema is generated from the document's types (npm run schema): the checked-in file must be what the types generate.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateSchema, SCHEMA_FILE } from '../../scripts/schema.js';

describe('schema/run-document.schema.json', () => {
  it('is what src/model/run-document.ts generates (run npm run schema after changing the types)', () => {
    const generated = generateSchema();
    expect(readFileSync(SCHEMA_FILE, 'utf8') === generated, 'the checked-in schema differs from the types: run npm run schema and commit it').toBe(true);
    const schema = JSON.parse(generated) as { oneOf: unknown; $defs: Record<string, { properties?: Record<string, { description?: string }> }> };
    // load-document.ts compiles #/$defs/run and #/$defs/compare.
    expect(schema.oneOf).toEqual([{ $ref: '#/$defs/run' }, { $ref: '#/$defs/compare' }]);
    // Descriptions come from the doc comments.
    expect(schema.$defs.Sample?.properties?.reload?.description).toBe('Reload number; 0 is the baseline before any signal.');
    // No object lets an unnamed property through unless its type has an index signature (fd kinds, metric ids, a scenario's own events).
    const open: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (Array.isArray(node)) node.forEach((inner, i) => walk(inner, `${path}/${i}`));
      if (node === null || typeof node !== 'object') return;
      const o = node as Record<string, unknown>;
      if (o.type === 'object' && (o.additionalProperties === undefined || o.additionalProperties === true)) open.push(path);
      for (const [key, inner] of Object.entries(o)) walk(inner, `${path}/${key}`);
    };
    walk(schema.$defs, '#/$defs');
    expect(open).toEqual([]);
  }, 120_000);
});
