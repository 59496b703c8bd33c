/**
 * graceful-drain's Rust children (hyper 0.14 + tokio from Debian's crates, built
 * for real with cargo on first use) under real load and real signals. Besides
 * repro's ledger, two tests check the servers independently: keeps-accepting's
 * listener is read in /proc/net/tcp (the kernel's accept queue grows while
 * nobody calls accept()), and drains-forever is held by one idle keep-alive
 * connection made with Node's own net client.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareDocument, RunDocument } from '../../src/model/run-document.js';
import { type LoadAndSignalPlan, runLoadAndSignal } from '../../src/harness/drivers/load-and-signal.js';
import { launchChild } from '../../src/harness/launch.js';
import { type DrainExpectation, drainExpectation } from '../../src/kinds/drain/expectation.js';
import { judgeDrain } from '../../src/kinds/drain/judge.js';
import { type DrainRecord, killedSentence, type LedgerSummary } from '../../src/model/drain.js';
import { DEBIAN_REGISTRY, ensureRustBinaries, GRACEFUL_DRAIN_PROJECT, missingForBuild } from '../../src/runtimes/cargo.js';
import { repro } from '../support/cli.js';
import { goneWithin, isAlive } from '../support/processes.js';
import { correctServerCases } from '../support/drain-correct-cases.js';
import { acceptQueue, httpGet, open } from '../support/raw-http.js';

/** A load-and-signal run judged by the drain kind's judge, the one the CLI uses. */
function judged(run: { ended: DrainRecord['ended']; ledger: LedgerSummary }, rules: DrainExpectation) {
  return judgeDrain({ drain: run, end: { detail: run.ended.detail } }, drainExpectation('', rules));
}

const LAG_MS = 300;
const GRACE_MS = 2000;
/** The child's listener lag over the routing lag, as the scenario gives it (LISTENER_MARGIN_MS). */
const MARGIN_MS = 100;

const missing = missingForBuild(DEBIAN_REGISTRY, process.env, GRACEFUL_DRAIN_PROJECT.crates);
const needs = missing.length ? ` (skipped: needs ${missing.join(', ')}; CI installs them)` : '';
let bins: Record<string, string> = {};
const scratch = mkdtempSync(join(tmpdir(), 'repro-drain-rust-'));

beforeAll(async () => {
  // The default cache, so the CLI below finds the same build.
  if (missing.length === 0) bins = await ensureRustBinaries(GRACEFUL_DRAIN_PROJECT);
}, 600_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const bin = (variant: string) => bins[variant.replaceAll('-', '_')] as string;

function plan(variant: string, seed: number, over: Partial<LoadAndSignalPlan> = {}): LoadAndSignalPlan {
  return {
    command: [bin(variant), '--lag', String(LAG_MS + MARGIN_MS), '--grace', String(GRACE_MS - 500)],
    readyTimeoutMs: 15_000,
    signal: 'SIGTERM',
    warmupMs: 800,
    signalJitterMs: 200,
    seed,
    lagMs: LAG_MS,
    graceMs: GRACE_MS,
    load: { concurrency: 30, maxRequests: 20_000, workMs: [0, 30], longMs: 600, thinkMs: 10, requestTimeoutMs: 5000, readinessEveryMs: 10, afterExitProbes: 3 },
    ...over,
  };
}

const phases = (events: { event: string }[]) => events.map((e) => e.event);

describe.skipIf(missing.length > 0)(`graceful-drain, Rust children (hyper + tokio from Debian's crates)${needs}`, () => {
  correctServerCases(() => [bin('correct'), '--lag', '0', '--grace', '3000']);

  it('repro compare --scenario graceful-drain --runtime rust exits 0: each broken server loses requests, each with its cause; correct loses none', async () => {
    const out = join(scratch, 'compare.json');
    const result = await repro(['compare', '--scenario', 'graceful-drain', '--runtime', 'rust', '--out', out], { timeout: 120_000 });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as CompareDocument;
    expect(doc.runs.map((r) => r.role)).toEqual(['exit-at-once', 'keeps-accepting', 'drains-forever', 'correct']);
    const byRole = Object.fromEntries(doc.runs.map((r) => [r.role, r])) as Record<string, RunDocument & { drain: NonNullable<RunDocument['drain']> }>;
    for (const run of doc.runs) {
      expect(run.runtime).toBe('rust');
      expect(run.drain?.ended.reason).toBe('done');
      expect(run.drain?.ledger.total).toBeGreaterThanOrEqual(300);
      // Every loss is labelled: the causes add up to the losses.
      expect(run.drain?.ledger.causes.reduce((n, c) => n + c.count, 0)).toBe(run.drain?.ledger.lost);
    }
    expect(byRole.correct?.drain.ledger).toMatchObject({ lost: 0, exit: { code: 0, signal: null, killed: false } });
    for (const broken of ['exit-at-once', 'keeps-accepting', 'drains-forever']) expect(byRole[broken]?.drain.ledger.lost).toBeGreaterThan(0);
    expect(byRole['drains-forever']?.drain.ledger.exit).toEqual({ code: null, signal: 'SIGKILL', killed: true });
    expect(result.stdout).toMatch(/killed after the grace period with \d+ connections open/);
    expect(doc.verdict.pass).toBe(true);
  }, 180_000);

  it('correct: not one request lost; served through the lag, listener closed, idle connections closed, cleanup in reverse, exit 0', async () => {
    const run = await runLoadAndSignal(plan('correct', 1));
    const { ledger } = run;
    expect(run.ended.reason).toBe('done');
    expect({ causes: ledger.causes, examples: ledger.examples }).toEqual({ causes: [], examples: [] });
    expect(ledger.total).toBeGreaterThan(300);
    expect(ledger.counts.ok.lag).toBeGreaterThan(0);
    expect(ledger.counts.refused.lag).toBe(0);
    expect(ledger.closeAnswers.before).toBe(0);
    expect(ledger.closeAnswers.lag).toBeGreaterThan(0);
    const closed = run.events.find((e) => e.event === 'listener-closed');
    expect(closed?.sinceSignalMs as number).toBeGreaterThanOrEqual(LAG_MS + MARGIN_MS);
    expect(ledger.timings.readinessFalseMs as number).toBeLessThan(ledger.timings.listenerClosedMs as number);
    expect(ledger.idle.held).toBeGreaterThan(0);
    expect(ledger.idle.closedByServer).toBe(ledger.idle.held);
    expect(phases(run.events)).toEqual(['draining', 'listener-closed', 'idle-closed', 'drained', 'cleanup', 'cleanup', 'cleanup']);
    expect(run.events.filter((e) => e.event === 'cleanup').map((e) => e.name)).toEqual(['metrics-flusher', 'job-queue', 'request-log']);
    expect(ledger.exit).toEqual({ code: 0, signal: null, killed: false });
    expect(ledger.counts.refused['after-exit']).toBe(3);
    expect(judged(run, { losses: 'none', minRequests: 300, exit: 'clean' }).pass).toBe(true);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('correct: a second signal (%s) during the drain exits at once (%i), within 250 ms', async (second, code) => {
    const run = await runLoadAndSignal(plan('correct', 3, { command: [bin('correct'), '--lag', '1500', '--grace', '5000'], lagMs: 1500, graceMs: 6000, secondSignal: { signal: second, afterMs: 100 } }));
    expect(run.ledger.exit).toEqual({ code, signal: null, killed: false });
    expect(phases(run.events)).toEqual(['draining', 'forced-exit']);
    expect(run.events[1]?.signal).toBe(second);
    expect(run.ledger.timings.secondSignalToExitMs as number).toBeLessThanOrEqual(250);
    expect(judged(run, { losses: 'some', minRequests: 0, exit: 'clean', secondSignalWithinMs: 250 }).checks.find((c) => c.id === 'drain:second-signal')?.ok).toBe(true);
  });

  it('exit-at-once: requests in flight are cut and the lag window is refused; every loss has its cause', async () => {
    const run = await runLoadAndSignal(plan('exit-at-once', 1));
    const { ledger } = run;
    expect(ledger.lost).toBeGreaterThan(0);
    expect(ledger.counts.refused.lag).toBeGreaterThan(0);
    expect(ledger.causes).toContainEqual(expect.objectContaining({ outcome: 'refused', phase: 'lag', cause: 'ECONNREFUSED: nothing listening', server: 'exited' }));
    expect(ledger.causes.reduce((n, c) => n + c.count, 0)).toBe(ledger.lost);
    expect(phases(run.events)).toEqual(['exiting']);
    expect(ledger.exit).toEqual({ code: 0, signal: null, killed: false });
  });

  it('keeps-accepting under load: requests sent during the lag are let in, never answered, and cut at the exit', async () => {
    const run = await runLoadAndSignal(plan('keeps-accepting', 1));
    const { ledger } = run;
    // Refused only once the process is gone: while it runs, the kernel accepts for it.
    expect(ledger.causes.filter((c) => c.outcome === 'refused' && c.server === 'running')).toEqual([]);
    expect(ledger.counts.reset.lag).toBeGreaterThan(0);
    expect(ledger.lost).toBeGreaterThan(0);
    expect(ledger.causes.reduce((n, c) => n + c.count, 0)).toBe(ledger.lost);
    expect(phases(run.events)).toEqual(['draining', 'drained']);
    expect(ledger.exit).toEqual({ code: 0, signal: null, killed: false });
  });

  it('keeps-accepting stops calling accept(): after SIGTERM new connections wait in the kernel accept queue, unanswered, and are reset at the exit', async () => {
    const child = launchChild({ command: [bin('keeps-accepting')] });
    const sockets: Socket[] = [];
    try {
      const ready = await child.output.waitFor((e) => e.event === 'ready', 15_000, 'ready');
      const port = (ready.event as unknown as { port: number }).port;
      // A slow response in flight keeps the server alive after the signal.
      const slow = await open(port);
      sockets.push(slow.socket);
      const slowEnded = new Promise<number>((resolve) => {
        let bytes = 0;
        slow.socket.on('data', (b: Buffer) => (bytes += b.length));
        slow.socket.on('close', () => resolve(bytes));
      });
      slow.socket.write('GET /stream?ms=1500&chunks=15 HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((r) => slow.socket.once('data', r));
      const draining = new Promise<void>((resolve) => child.output.onOtherEvent((e) => e.event === 'draining' && resolve()));
      child.signal('SIGTERM');
      await draining;
      const waiting: Promise<string>[] = [];
      for (let i = 0; i < 4; i++) {
        const { socket, error } = await open(port);
        expect(error).toBeUndefined(); // the kernel completes the handshake for the open listener
        sockets.push(socket);
        socket.write('GET /work HTTP/1.1\r\nHost: x\r\n\r\n');
        waiting.push(
          new Promise((resolve) => {
            let got = '';
            socket.on('data', (b: Buffer) => (got += b.toString()));
            socket.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
            socket.on('close', () => resolve(got === '' ? 'closed unanswered' : `answered: ${got.slice(0, 12)}`));
          }),
        );
      }
      // Nobody accepts: all four sit in the listener's accept queue.
      expect(acceptQueue(port)).toBe(4);
      const outcomes = await Promise.all(waiting);
      expect(outcomes.every((o) => o === 'error ECONNRESET' || o === 'closed unanswered')).toBe(true);
      expect(outcomes).toContain('error ECONNRESET');
      // The slow response was finished before the exit (15 × 256 bytes after the head).
      expect(await slowEnded).toBeGreaterThan(15 * 256);
      expect((await child.exited).exitCode).toBe(0);
    } finally {
      for (const s of sockets) s.destroy();
      await child.stop(1000);
    }
  });

  it('drains-forever under load: refuses during the lag, then an idle client holds it until the SIGKILL after the grace period', async () => {
    const run = await runLoadAndSignal(plan('drains-forever', 1));
    const { ledger } = run;
    expect(ledger.exit).toEqual({ code: null, signal: 'SIGKILL', killed: true });
    expect(ledger.timings.killMs as number).toBeGreaterThanOrEqual(GRACE_MS);
    expect(ledger.counts.refused.lag).toBeGreaterThan(0);
    expect(ledger.idle.closedByServer).toBe(0);
    expect(ledger.connectionsOpenAtKill).toBeGreaterThanOrEqual(ledger.idle.held);
    expect(killedSentence(ledger)).toBe(`killed after the grace period with ${ledger.connectionsOpenAtKill} connections open`);
    expect(judged(run, { losses: 'some', minRequests: 300, exit: 'killed' }).pass).toBe(true);
  });

  it('drains-forever: one idle keep-alive connection holds it (a second SIGTERM is swallowed); it exits 0 once that client leaves', async () => {
    const child = launchChild({ command: [bin('drains-forever')] });
    try {
      const ready = await child.output.waitFor((e) => e.event === 'ready', 15_000, 'ready');
      const port = (ready.event as unknown as { port: number }).port;
      const idle = await open(port);
      idle.socket.write('GET /work HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((r) => idle.socket.once('data', r));
      const closed = new Promise<void>((resolve) => child.output.onOtherEvent((e) => e.event === 'listener-closed' && resolve()));
      child.signal('SIGTERM');
      await closed;
      expect((await open(port)).error).toBe('ECONNREFUSED');
      child.signal('SIGTERM');
      expect(await goneWithin(child.pid, 800)).toBe(false);
      expect(isAlive(child.pid)).toBe(true);
      idle.socket.end();
      expect((await child.exited).exitCode).toBe(0);
    } finally {
      await child.stop(1000);
    }
  });

  it('correct, checked with Node’s own http client: readiness 503 and Connection: close during the lag, work still served; then the port refuses', async () => {
    const child = launchChild({ command: [bin('correct'), '--lag', '400', '--grace', '3000'] });
    try {
      const ready = await child.output.waitFor((e) => e.event === 'ready', 15_000, 'ready');
      const { port, runtime } = ready.event as unknown as { port: number; runtime: string };
      expect(runtime).toMatch(/^rust \S+, hyper 0\.14\.\d+, tokio 1\.\d+\.\d+$/);
      expect((await httpGet(port, '/ready')).statusCode).toBe(200);
      const draining = new Promise<void>((resolve) => child.output.onOtherEvent((e) => e.event === 'draining' && resolve()));
      child.signal('SIGTERM');
      await draining;
      expect((await httpGet(port, '/ready')).statusCode).toBe(503);
      const work = await httpGet(port, '/work?ms=10');
      expect(work.statusCode).toBe(200);
      expect(work.headers.connection).toBe('close');
      expect(work.body).toHaveLength(512);
      expect((await child.exited).exitCode).toBe(0);
      expect((await open(port)).error).toBe('ECONNREFUSED');
    } finally {
      await child.stop(1000);
    }
  });

  it.each(['correct', 'exit-at-once', 'keeps-accepting', 'drains-forever'])('%s exits when its stdin reaches end of file', async (variant) => {
    const proc = spawn(bin(variant), [], { stdio: ['pipe', 'pipe', 'ignore'] });
    try {
      await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
      proc.stdin.end();
      expect(await goneWithin(proc.pid as number, 5000)).toBe(true);
    } finally {
      proc.kill('SIGKILL');
      proc.stdout.destroy();
    }
  });
});

describe('graceful-drain --runtime rust without cargo', () => {
  it('is one line naming what to install, exit 3, before anything runs', async () => {
    const emptyPath = mkdtempSync(join(scratch, 'no-cargo-'));
    const result = await repro(['compare', '--scenario', 'graceful-drain', '--runtime', 'rust'], { env: { PATH: emptyPath } });
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('--runtime rust: the rust runtime needs cargo');
    expect(result.stderr).toContain('(missing: cargo); install them with: apt-get install -y cargo librust-tokio-dev librust-tokio-util-dev librust-hyper-dev');
  });
});
