/**
 * signal-coalescing: one compare of the C children through the CLI (its
 * document validated against the schema), the counts each role's handlers
 * made of a burst held pending; and the outcome rule over made-up counts.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import type { CompareDocument } from '../../src/model/run-document.js';
import { classify, SIGRTMIN_1 } from '../../src/scenarios/signal-coalescing/trial.js';
import { reproJson } from '../support/cli.js';

const schema = JSON.parse(readFileSync(new URL('../../schema/run-document.schema.json', import.meta.url), 'utf8')) as object;
const validate = new Ajv2020({ strict: true, allErrors: true, validateFormats: false }).compile(schema);

describe('signal-coalescing, C children', () => {
  it('compare: 1000 SIGHUP held pending are handled once, 1000 SIGRTMIN+1 a thousand times, 200 under RLIMIT_SIGPENDING 200; the document validates', async () => {
    const { exitCode, run, stderr } = await reproJson<CompareDocument>(['compare', '--scenario', 'signal-coalescing', '--reloads', '2'], { timeout: 60_000 });
    expect(exitCode, stderr).toBe(0);
    expect(validate(run), JSON.stringify(validate.errors)).toBe(true);
    const byRole = Object.fromEntries(run!.runs.map((r) => [r.role, r.trials?.results ?? []]));
    for (const r of byRole.broken ?? []) expect(r).toMatchObject({ outcome: 'coalesced', counts: { sent: 1000, pending: 1, hup: 1 } });
    for (const r of byRole.correct ?? []) expect(r).toMatchObject({ outcome: 'all-seen', counts: { hup: 1, seen: 1000 } });
    for (const r of byRole['rt-queued'] ?? []) expect(r).toMatchObject({ outcome: 'queued', counts: { sent: 1000, rt: 1000 } });
    for (const r of byRole['rt-overflow'] ?? []) {
      expect(r.outcome).toBe('dropped-silently');
      expect(r.counts.sent).toBe(1000);
      expect(r.counts.rt).toBeLessThanOrEqual(200);
    }
    expect(Object.values(byRole).map((r) => r.length)).toEqual([2, 2, 2, 2]);
  }, 60_000);
});

describe('classify', () => {
  const counted = (hup: number, rt: number, seen = 0) => ({ hup, rt, seen });
  it('names each fact by its own outcome', () => {
    expect(classify('broken', 1, 1000, counted(1, 0)).outcome).toBe('coalesced');
    expect(classify('correct', 1, 1000, counted(1, 0, 1000)).outcome).toBe('all-seen');
    expect(classify('correct', 1, 1000, counted(1, 0, 999)).outcome).toBe('missed');
    expect(classify('rt-queued', SIGRTMIN_1, 1000, counted(0, 1000)).outcome).toBe('queued');
    expect(classify('python-rt', SIGRTMIN_1, 1000, counted(0, 1)).outcome).toBe('rt-collapsed');
    expect(classify('rt-overflow', SIGRTMIN_1, 1000, counted(0, 199)).outcome).toBe('dropped-silently');
    // The limit counts every signal pending for the user: with another child's 1,000 pending, one may be all that fits.
    expect(classify('rt-overflow', SIGRTMIN_1, 1000, counted(0, 1)).outcome).toBe('dropped-silently');
    // A standard signal handled more than once but not every time was not held pending: no rule explains it.
    expect(classify('broken', 1, 1000, counted(7, 0)).outcome).toBe('unknown');
  });
});
