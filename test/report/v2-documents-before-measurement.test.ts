// Version 2 documents written before runs named their `measurement` (repro at b60fbc3, real runs) still
// load: the kind comes from their fields, they are judged again by that kind's judge, and exit as they ran.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CompareDocument, RunDocument } from '../../src/model/run-document.js';
import { repro } from '../support/cli.js';

const saved = (name: string) => fileURLToPath(new URL(`../fixtures/documents/${name}`, import.meta.url));

describe('a version 2 document without measurement', () => {
  it('a watch of a leaking service: loads as a tree run, fails its survivors gate again (exit 1)', async () => {
    const before = JSON.parse(readFileSync(saved('v2-watch-leak-before-measurement.json'), 'utf8')) as RunDocument;
    expect(before).not.toHaveProperty('measurement');
    const result = await repro(['report', saved('v2-watch-leak-before-measurement.json'), '--json']);
    expect(result.exitCode, result.stderr).toBe(1);
    const doc = JSON.parse(result.stdout) as RunDocument;
    expect(doc.measurement).toBe('tree');
    expect(doc.verdict.checks.find((c) => c.id === 'survivors')).toMatchObject({ ok: false });
    expect(doc.survivors?.survivorsPerReload).toBe(before.survivors?.survivorsPerReload);
  });

  it('a graceful-drain compare: loads as drain runs and passes again (exit 0)', async () => {
    const result = await repro(['report', saved('v2-drain-compare-before-measurement.json'), '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as CompareDocument;
    expect(doc.runs.map((r) => r.measurement)).toEqual(doc.runs.map(() => 'drain'));
  });
});
