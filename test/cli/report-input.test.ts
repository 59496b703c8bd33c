// `repro report` and `--baseline` given something that is not a run document: the line says what the
// file is, and the first field that is wrong where it is (not "(top level) … 'scenario'" for all of them).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareDocument, RunDocument } from '../../src/model/run-document.js';
import { repro } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'repro-report-input-'));
const at = (name: string) => join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FIX = 'name a file written by repro --out or --json';

beforeAll(async () => {
  const probe = await repro(['probe', String(process.pid), '--json']);
  expect(probe.exitCode).toBe(0);
  writeFileSync(at('probe.json'), probe.stdout);
  const compare = await repro(['compare', '--out', at('compare.json')]);
  expect(compare.exitCode).toBe(0);
  const doc = JSON.parse(readFileSync(at('compare.json'), 'utf8')) as CompareDocument;
  const [broken, correct] = doc.runs as [RunDocument, RunDocument];
  const noSamples: Record<string, unknown> = { ...broken };
  delete noSamples.samples;
  writeFileSync(at('no-samples.json'), JSON.stringify({ ...doc, runs: [noSamples, correct] }));
  const badChild = { ...correct, end: { ...correct.end, child: { ...correct.end.child, exitCode: 'zero' } } };
  writeFileSync(at('bad-child.json'), JSON.stringify({ ...doc, runs: [broken, badChild] }));
  writeFileSync(at('extra.json'), JSON.stringify({ ...doc, runs: [broken, { ...correct, colour: 'red' }] }));
  writeFileSync(at('kind-only.json'), '{"kind":"compare"}');
  writeFileSync(at('kind-other.json'), '{"schemaVersion":1,"kind":"snapshot"}');
  writeFileSync(at('number.json'), '42');
  writeFileSync(at('array.json'), '[]');
  writeFileSync(at('null.json'), 'null');
  writeFileSync(at('empty.json'), '');
  mkdirSync(at('a-directory'));
});

describe('what the file is, and the first field that is wrong where it is', () => {
  it.each([
    ['probe.json', 'this is a `repro probe --json` snapshot, not a run document'],
    ['no-samples.json', "not a valid compare document: /runs/0: must have required property 'samples'"],
    ['bad-child.json', 'not a valid compare document: /runs/1/end/child/exitCode: must be integer,null'],
    ['extra.json', "not a valid compare document: /runs/1: must not have the property 'colour'"],
    ['kind-only.json', "not a valid compare document: (top level): must have required property 'schemaVersion'"],
    ['kind-other.json', 'not a run document: kind "snapshot" is not run or compare'],
    ['number.json', 'this is a JSON number, not a run document'],
    ['array.json', 'this is a JSON array, not a run document'],
    ['null.json', 'this is JSON null, not a run document'],
    ['empty.json', 'the file is empty'],
    ['a-directory', 'cannot read (it is a directory)'],
  ])('repro report %s', async (name, why) => {
    const result = await repro(['report', at(name)]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(`repro: repro report ${at(name)}: ${why}; ${FIX}`);
    expect(result.stdout).toBe('');
  });

  it('--baseline with a probe snapshot says so, before the run', async () => {
    const result = await repro(['correct', '--reloads', '3', '--baseline', at('probe.json')]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(`repro: --baseline ${at('probe.json')}: this is a \`repro probe --json\` snapshot, not a run document; ${FIX}`);
    expect(result.stdout).toBe('');
  });

  it('the document itself still loads', async () => {
    const result = await repro(['report', at('compare.json'), '--no-chart']);
    expect(result.exitCode).toBe(0);
  });
});
