// Inputs that used to end in "internal error" (exit 70): each works, or is one line with a documented code.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDocument } from '../../src/model/run-document.js';
import { BIN, repro } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'repro-no-crash-'));
const at = (name: string) => join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let run: RunDocument;
beforeAll(async () => {
  const result = await repro(['correct', '--reloads', '3', '--out', at('run.json')]);
  expect(result.exitCode).toBe(0);
  run = JSON.parse(readFileSync(at('run.json'), 'utf8')) as RunDocument;
});

/** repro started from a directory that is deleted first (`mkdir d; cd d; rmdir ../d; repro …`). */
async function inDeletedDirectory(args: string[]) {
  const gone = at(`gone-${Math.random().toString(36).slice(2)}`);
  mkdirSync(gone);
  const result = await execa('/bin/sh', ['-c', 'cd "$1" && rmdir "$1" && shift && exec "$@"', 'sh', gone, process.execPath, BIN, ...args], {
    reject: false,
    env: { NO_COLOR: '1', GITHUB_STEP_SUMMARY: '' },
    stdin: 'ignore',
    timeout: 60_000,
  });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

describe('the working directory was deleted', () => {
  it.each([[['compare', '--reloads', '3']], [['watch', '--', 'sleep', '5']], [['report', '/nonexistent.json']]])('repro %j: one line, exit 3', async (args) => {
    const result = await inDeletedDirectory(args);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toBe('repro: the current directory no longer exists (it was deleted); cd to a directory that exists and run repro again');
    expect(result.stdout).toBe('');
  });

  it('repro probe needs no directory and still works', async () => {
    const result = await inDeletedDirectory(['probe', String(process.pid)]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`pid ${process.pid}`);
  });
});

describe('a schema-valid document with 150 000 samples', () => {
  it('renders every view (no spread of the samples into Math.max)', async () => {
    const last = run.samples.at(-1) as RunDocument['samples'][number];
    const big: RunDocument = { ...run, samples: Array.from({ length: 150_000 }, (_, i) => ({ ...last, reload: i, fds: last.fds + (i % 7) })) };
    writeFileSync(at('big.json'), JSON.stringify(big));
    const outputs = ['--svg', 'big.svg', '--html', 'big.html', '--markdown', 'big.md', '--junit', 'big.xml', '--csv', 'big.csv'].map((a) => (a.startsWith('--') ? a : at(a)));
    const result = await repro(['report', at('big.json'), ...outputs]);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('PASS');
    for (const name of ['big.svg', 'big.html', 'big.md', 'big.xml']) expect(statSync(at(name)).size).toBeGreaterThan(0);
    expect(readFileSync(at('big.csv'), 'utf8').trimEnd().split('\n')).toHaveLength(150_001);
  });
});

describe('a baseline whose growth per reload is the largest finite number', () => {
  it('gives a finite change, and the document it writes re-loads', async () => {
    writeFileSync(at('huge.json'), JSON.stringify({ ...run, measured: { ...run.measured, growthPerReload: 1.7e308 } }));
    const result = await repro(['report', at('run.json'), '--baseline', at('huge.json'), '--out', at('against-huge.json')]);
    expect(result.exitCode).toBe(0);
    const saved = JSON.parse(readFileSync(at('against-huge.json'), 'utf8')) as RunDocument;
    expect(saved.baseline?.runs[0]?.change).toBe(-1.7e308);
    const again = await repro(['report', at('against-huge.json')]);
    expect(again.stderr).toBe('');
    expect(again.exitCode).toBe(0);
  });
});
