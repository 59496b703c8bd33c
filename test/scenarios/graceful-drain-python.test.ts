/**
 * graceful-drain's Python children (a threaded http.server daemon with the
 * essay's `while alive:` loop) through the real CLI under real load, and two
 * behaviours checked without repro's client: exit-at-once's daemon request
 * threads die mid-response, and keeps-accepting leaves connections in the
 * kernel's accept queue (read from /proc/net/tcp).
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runLoadAndSignal } from '../../src/harness/drivers/load-and-signal.js';
import { launchChild } from '../../src/harness/launch.js';
import type { CompareDocument, RunDocument } from '../../src/model/run-document.js';
import { pythonChild } from '../../src/runtimes/index.js';
import { repro } from '../support/cli.js';
import { goneWithin } from '../support/processes.js';
import { correctServerCases } from '../support/drain-correct-cases.js';
import { acceptQueue, atTheSignal, drain, open } from '../support/raw-http.js';

const SERVER = 'src/scenarios/graceful-drain/python/server.py';

describe('graceful-drain, Python children', () => {
  it('repro compare --scenario graceful-drain --runtime python exits 0: each broken server loses requests, each with its cause; correct loses none', async () => {
    const result = await repro(['compare', '--scenario', 'graceful-drain', '--runtime', 'python', '--json'], { timeout: 90_000 });
    expect(result.stderr).toBe('');
    const doc = JSON.parse(result.stdout) as CompareDocument;
    // Which role failed, and why, before the exit code that only says one did.
    expect(doc.runs.filter((r) => !r.verdict.pass).map((r) => `${r.role}: ${r.verdict.checks.filter((c) => !c.ok).map((c) => c.text).join('; ')}`)).toEqual([]);
    expect(result.exitCode).toBe(0);
    const byRole = Object.fromEntries(doc.runs.map((r) => [r.role, r])) as Record<string, RunDocument & { drain: NonNullable<RunDocument['drain']> }>;
    expect(Object.keys(byRole)).toEqual(['exit-at-once', 'keeps-accepting', 'drains-forever', 'correct']);
    for (const run of doc.runs) {
      expect(run.runtime).toBe('python');
      expect(run.drain?.ledger.total).toBeGreaterThanOrEqual(300);
      expect(run.drain?.ledger.causes.reduce((n, c) => n + c.count, 0)).toBe(run.drain?.ledger.lost);
    }
    expect(byRole.correct?.drain.ledger).toMatchObject({ lost: 0, exit: { code: 0, signal: null, killed: false } });
    expect(byRole.correct?.drain.ledger.idle.closedByServer).toBe(byRole.correct?.drain.ledger.idle.held);
    expect(byRole.correct?.drain.events.map((e) => e.event)).toEqual(['draining', 'listener-closed', 'idle-closed', 'drained', 'cleanup', 'cleanup', 'cleanup']);
    for (const broken of ['exit-at-once', 'keeps-accepting', 'drains-forever']) expect(byRole[broken]?.drain.ledger.lost).toBeGreaterThan(0);
    expect(byRole['drains-forever']?.drain.ledger.exit).toEqual({ code: null, signal: 'SIGKILL', killed: true });
    expect(doc.verdict.pass).toBe(true);
  }, 120_000);

  it('correct: a second SIGINT during the drain exits at once (130), within 250 ms', async () => {
    const run = await runLoadAndSignal({
      command: pythonChild(SERVER, ['correct', '--lag', '1500', '--grace', '5000']),
      readyTimeoutMs: 15_000,
      signal: 'SIGTERM',
      warmupMs: 500,
      signalJitterMs: 100,
      seed: 2,
      lagMs: 1500,
      graceMs: 6000,
      secondSignal: { signal: 'SIGINT', afterMs: 100 },
      load: { concurrency: 10, maxRequests: 3000, workMs: [0, 30], longMs: 600, thinkMs: 10, requestTimeoutMs: 5000, readinessEveryMs: 10, afterExitProbes: 0 },
    });
    expect(run.ledger.exit).toEqual({ code: 130, signal: null, killed: false });
    expect(run.events.map((e) => e.event)).toEqual(['draining', 'forced-exit']);
    expect(run.ledger.timings.secondSignalToExitMs as number).toBeLessThanOrEqual(250);
  });

  correctServerCases(() => pythonChild(SERVER, ['correct', '--lag', '0', '--grace', '3000']));

  it("exit-at-once: `alive = False` ends the loop and the interpreter kills its daemon request threads mid-response", async () => {
    const child = launchChild({ command: pythonChild(SERVER, ['exit-at-once']) });
    try {
      const ready = await child.output.waitFor((e) => e.event === 'ready', 15_000, 'ready');
      const port = (ready.event as unknown as { port: number }).port;
      const { socket } = await open(port);
      const ended = drain(socket);
      socket.write('GET /stream?ms=2000&chunks=20 HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((r) => socket.once('data', r));
      child.signal('SIGTERM');
      const { text } = await ended;
      const declared = Number(/content-length: (\d+)/i.exec(text)?.[1]);
      const body = text.length - text.indexOf('\r\n\r\n') - 4;
      expect(declared).toBe(20 * 256);
      expect(body).toBeLessThan(declared);
      expect((await child.exited).exitCode).toBe(0);
    } finally {
      await child.stop(1000);
    }
  });

  it('keeps-accepting stops calling accept(): new connections wait in the kernel accept queue, unanswered, until the exit', async () => {
    const child = launchChild({ command: pythonChild(SERVER, ['keeps-accepting']) });
    const sockets: Socket[] = [];
    try {
      const ready = await child.output.waitFor((e) => e.event === 'ready', 15_000, 'ready');
      const port = (ready.event as unknown as { port: number }).port;
      const slow = await open(port);
      sockets.push(slow.socket);
      const slowEnded = drain(slow.socket);
      slow.socket.write('GET /stream?ms=1500&chunks=15 HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((r) => slow.socket.once('data', r));
      const draining = new Promise<void>((resolve) => child.output.onOtherEvent((e) => e.event === 'draining' && resolve()));
      child.signal('SIGTERM');
      await draining;
      const waiting: Promise<{ bytes: number; reset: boolean }>[] = [];
      for (let i = 0; i < 3; i++) {
        const { socket, error } = await open(port);
        expect(error).toBeUndefined();
        sockets.push(socket);
        waiting.push(drain(socket));
        socket.write('GET /work HTTP/1.1\r\nHost: x\r\n\r\n');
      }
      expect(acceptQueue(port)).toBe(3);
      const outcomes = await Promise.all(waiting);
      expect(outcomes.every((o) => o.bytes === 0)).toBe(true);
      expect(outcomes.some((o) => o.reset)).toBe(true);
      // The response in flight at the signal was finished first.
      expect((await slowEnded).bytes).toBeGreaterThan(15 * 256);
      expect((await child.exited).exitCode).toBe(0);
    } finally {
      for (const s of sockets) s.destroy();
      await child.stop(1000);
    }
  });

  it('keeps-accepting: a request half-sent at the signal does not keep it from exiting by itself', async () => {
    const { exitCode, exitedAfterMs } = await atTheSignal(pythonChild(SERVER, ['keeps-accepting']), 'GET /work HTTP/1.1\r\n');
    expect(exitCode).toBe(0);
    expect(exitedAfterMs).toBeLessThan(2000);
  });

  it.each(['correct', 'exit-at-once', 'keeps-accepting', 'drains-forever'])('%s exits when its stdin reaches end of file', async (variant) => {
    const [python, ...args] = pythonChild(SERVER, [variant]) as [string, ...string[]];
    const proc = spawn(python, args, { stdio: ['pipe', 'pipe', 'ignore'] });
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
