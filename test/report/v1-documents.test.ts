// Documents written by repro before run document v2 (schemaVersion 1) still load, render and gate:
// converted on load, then every view and --baseline work on them as on a v2 run.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { XMLValidator } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompareDocument, RunDocument } from '../../src/model/run-document.js';
import { repro } from '../support/cli.js';

const saved = (name: string) => fileURLToPath(new URL(`../fixtures/documents/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'repro-v1-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const schema = JSON.parse(readFileSync(fileURLToPath(new URL('../../schema/run-document.schema.json', import.meta.url)), 'utf8')) as object;
const validate = new Ajv2020({ strict: true, validateFormats: false }).compile(schema);

describe('a saved version 1 compare document', () => {
  it('renders every view and exits as the run did, its JSON now a valid version 2 document with the same numbers', async () => {
    const v1 = JSON.parse(readFileSync(saved('v1-compare.json'), 'utf8')) as { runs: Record<string, { verdict: { growthPerReload: number; listenersEnd: number } }> };
    const result = await repro(['report', saved('v1-compare.json'), '--json', '--html', join(dir, 'c.html'), '--junit', join(dir, 'c.xml'), '--markdown', join(dir, 'c.md')]);
    expect(result.exitCode, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as CompareDocument;
    expect(doc.schemaVersion).toBe(2);
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 2))).toBe(true);
    expect(doc.runs.map((r) => [r.role, r.roleKind, r.runtime, r.options])).toEqual([
      ['broken', 'broken', 'node', { channel: 'pipe' }],
      ['correct', 'correct', 'node', { channel: 'pipe' }],
    ]);
    expect(doc.runs[0]?.measured.growthPerReload).toBe(v1.runs.broken?.verdict.growthPerReload);
    expect(doc.runs[1]?.measured.metrics.listeners?.end).toBe(v1.runs.correct?.verdict.listenersEnd);
    expect(doc.runs[1]?.samples[0]?.metrics?.listeners).toBe(1);
    expect(XMLValidator.validate(readFileSync(join(dir, 'c.xml'), 'utf8'))).toBe(true);
    expect(readFileSync(join(dir, 'c.html'), 'utf8')).toContain('broken (node, channel pipe)');
    expect(readFileSync(join(dir, 'c.md'), 'utf8')).toContain('PASS');
  });

  it('is a baseline for a version 2 run of the same roles', async () => {
    const result = await repro(['compare', '--reloads', '30', '--no-chart', '--baseline', saved('v1-compare.json')]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/ok: correct growth per reload 0 against 0 in .*v1-compare.json/);
  });
});

describe('a saved version 1 watch document of a leak', () => {
  it('still fails (exit 1), and can be judged again with a gate that lets its growth pass', async () => {
    const failing = await repro(['report', saved('v1-watch-leak.json'), '--json']);
    expect(failing.exitCode).toBe(1);
    const doc = JSON.parse(failing.stdout) as RunDocument;
    expect(doc.verdict.expectation).toMatchObject({ maxGrowth: 0.1, earlyIsInconclusive: true });
    const lenient = await repro(['report', saved('v1-watch-leak.json'), '--max-growth', '5', '--json']);
    expect(lenient.exitCode, lenient.stderr).toBe(0);
    expect((JSON.parse(lenient.stdout) as RunDocument).verdict.checks.find((c) => c.id === 'growth')).toMatchObject({ ok: true, text: expect.stringContaining('gate: ≤ 5') });
  });
});
