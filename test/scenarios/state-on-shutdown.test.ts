/**
 * state-on-shutdown with its real Node services: repro's clients send
 * increments over a unix socket, SIGTERM comes after a seeded number, and
 * after the exit repro reads the state file. One test also drives the
 * correct service with a client of its own and reads the file itself,
 * independently of repro's clients and ledger.
 */
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { launchChild } from '../../src/harness/launch.js';
import { ledgerFailure } from '../../src/kinds/ledger/judge.js';
import type { CompareDocument, LedgerRun } from '../../src/model/run-document.js';
import { nodeChild } from '../../src/runtimes/index.js';
import { reproJson } from '../support/cli.js';

const schema = JSON.parse(readFileSync(new URL('../../schema/run-document.schema.json', import.meta.url), 'utf8')) as object;
const validate = new Ajv2020({ strict: true, allErrors: true, validateFormats: false }).compile(schema);

describe('state-on-shutdown, Node services', () => {
  it('compare: no-persistence is killed by SIGTERM with every acknowledged increment lost, racy-snapshot exits 0 with some missing, correct keeps every one; the document validates', async () => {
    const { exitCode, run: doc, stderr } = await reproJson<CompareDocument>(['compare', '--scenario', 'state-on-shutdown'], { timeout: 90_000 });
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    const runs = Object.fromEntries((doc?.runs ?? []).map((r) => [r.role, r as LedgerRun]));
    const of = (role: string) => {
      const ledger = runs[role]?.ledger;
      if (!ledger) throw new Error(`no ledger for ${role}`);
      return ledger;
    };
    expect(runs['no-persistence']?.end.child?.signal).toBe('SIGTERM');
    expect(ledgerFailure(of('no-persistence'))).toBe('killed-by-signal');
    expect(of('no-persistence').entries.acknowledged).toBe(0);
    expect(of('no-persistence').entries.lost).toBeGreaterThanOrEqual(of('no-persistence').plan.signalAfter - 4);
    expect(runs['racy-snapshot']?.end.child?.exitCode).toBe(0);
    expect(ledgerFailure(of('racy-snapshot'))).toBe('exit-0-but-lost');
    expect(of('racy-snapshot').entries.causes.map((c) => c.cause)).toEqual(['acknowledged, but missing from the state file']);
    const correct = of('correct');
    expect(runs.correct?.end.child?.exitCode).toBe(0);
    expect(correct.entries.lost).toBe(0);
    expect(correct.entries.acknowledged).toBeGreaterThanOrEqual(correct.plan.signalAfter - 4);
  }, 90_000);

  it('the correct service, driven by a client of the test: every increment it acknowledged is in the file it leaves, written whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-test-'));
    const socketPath = join(dir, 's.sock');
    const statePath = join(dir, 'state.json');
    const child = launchChild({ command: nodeChild('scenarios/state-on-shutdown/node/service.js', ['correct', '--socket', socketPath, '--state', statePath]) });
    try {
      await child.output.waitFor((e) => e.event === 'ready', 30_000, 'ready');
      const socket = connect(socketPath);
      await once(socket, 'connect');
      socket.setEncoding('utf8');
      const acked: string[] = [];
      let pending = '';
      let next = 1;
      socket.on('error', () => {});
      socket.on('data', (chunk: string) => {
        pending += chunk;
        for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
          acked.push(pending.slice(3, end));
          pending = pending.slice(end + 1);
          if (next === 200) child.signal('SIGTERM');
          if (!socket.destroyed) socket.write(`inc t${next++}\n`);
        }
      });
      socket.write(`inc t${next++}\n`);
      const exit = await child.exited;
      expect(exit).toMatchObject({ exitCode: 0, signal: null });
      const state = JSON.parse(readFileSync(statePath, 'utf8')) as { total: number; applied: string[] };
      expect(acked.length).toBeGreaterThanOrEqual(199);
      expect(acked.filter((id) => !state.applied.includes(id))).toEqual([]);
      expect(state.total).toBe(state.applied.length);
    } finally {
      await child.stop(0);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
