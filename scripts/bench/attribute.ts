/**
 * Bench for `watch --attribute` (issue 14), printed, not asserted:
 * 1. the per-reload cost with and without --attribute on leaking programs
 *    (C: a signalfd per reload; Python: a pipe pair per reload), 40 reloads
 *    each, --settle 100 (the default) and 20: (last sample − baseline) / reloads;
 * 2. the parser's memory: a recorded trace (two threads opening and closing
 *    400 times) streamed 300 times through one FdTracker: lines, heap before
 *    and after, what it keeps (open fds, call sites);
 * 3. a real churning service under --attribute: trace lines read, most fds held.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { execa } from 'execa';
import { FdTracker } from '../../src/attribution/tracker.js';
import type { RunDocument } from '../../src/model/run-document.js';

const BIN = fileURLToPath(new URL('../../bin/repro.js', import.meta.url));
const service = (name: string) => fileURLToPath(new URL(`../../test/fixtures/services/${name}`, import.meta.url));
const f = (n: number, d = 1) => n.toFixed(d);

async function watchRun(command: string[], settleMs: number, attribute: boolean, reloads: number): Promise<RunDocument> {
  const dir = mkdtempSync(join(tmpdir(), 'repro-bench-attr-'));
  try {
    const out = join(dir, 'run.json');
    await execa(process.execPath, [BIN, 'watch', ...(attribute ? ['--attribute'] : []), '--reloads', String(reloads), '--settle', String(settleMs), '--out', out, '--', ...command], { reject: false, env: { NO_COLOR: '1' } });
    return JSON.parse(readFileSync(out, 'utf8')) as RunDocument;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function perReloadMs(doc: RunDocument): number {
  const first = doc.samples[0];
  const last = doc.samples.at(-1);
  if (!first || !last || last.reload === 0) return NaN;
  return (last.elapsedMs - first.elapsedMs) / last.reload;
}

function heapMb(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

/** npm run bench's `attribute` section. */
export async function attributeBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'repro-bench-attr-bin-'));
  const reloads = 40;
  try {
    const c = join(dir, 'leaks-signalfd');
    execFileSync('gcc', ['-O2', '-o', c, service('leaks-signalfd-in-named-function-per-hup.c')]);
    const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
    const programs: [string, string[]][] = [
      ['C, 1 signalfd per reload', [c]],
      ['Python, 1 pipe pair per reload', [python, service('leaks-pipe-per-hup.py')]],
    ];
    console.log(`## watch --attribute: per-reload cost (${reloads} reloads, (last sample − baseline) / reloads)`);
    console.log('');
    console.log('| program | --settle | without | with --attribute | ratio | attributed | trace lines |');
    console.log('|---|---|---|---|---|---|---|');
    for (const [label, command] of programs) {
      for (const settle of [100, 20]) {
        const plain = await watchRun(command, settle, false, reloads);
        const traced = await watchRun(command, settle, true, reloads);
        const a = traced.attribution;
        const [p, t] = [perReloadMs(plain), perReloadMs(traced)];
        console.log(`| ${label} | ${settle} ms | ${f(p)} ms | ${f(t)} ms | ${f(t / p, 2)}× | ${a ? `${a.attributed}/${a.survivors}` : '—'} | ${a?.trace.lines ?? '—'} |`);
      }
    }
    console.log('');

    const lines = readFileSync(fileURLToPath(new URL('../../test/attribution/fixtures/opens-in-two-threads.strace', import.meta.url)), 'utf8').split('\n');
    const before = heapMb();
    const tracker = new FdTracker({ signal: 'SIGHUP' });
    const started = performance.now();
    let peakHeap = before;
    for (let i = 0; i < 300; i++) {
      for (const l of lines) tracker.line(l);
      if (i % 50 === 49) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed / 1024 / 1024);
    }
    tracker.flush();
    const ms = performance.now() - started;
    const after = heapMb();
    const s = tracker.stats();
    console.log(`## the parser's memory: a recorded trace streamed ${300} times`);
    console.log('');
    console.log(`- ${s.lines} lines (${f((s.lines / ms) * 1000 / 1e6, 2)} M lines/s): heap ${f(before)} MB before, ${f(after)} MB after (peak seen ${f(peakHeap)} MB); kept: ${s.openFds} open fds (at most ${s.peakOpenFds} at once), ${s.sites} call sites, ${s.processes} process`);

    const churn = await watchRun([python, service('churns-temp-file-every-10ms.py')], 100, true, 20);
    const a = churn.attribution;
    console.log(`- a service that opens and closes a temp file every 10 ms, 20 reloads under --attribute: ${a?.trace.lines ?? '—'} trace lines read, at most ${a?.trace.peakOpenFds ?? '—'} fds held at once, ${a?.trace.sites ?? '—'} call sites; verdict ${churn.verdict.pass ? 'pass' : 'fail'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
