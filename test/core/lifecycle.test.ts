// The run lifecycle with a scripted strategy and a fake child: the order of the phases, the
// tracer set-up and pinning, and the teardown on every way out. Pure logic, no processes.
import { describe, expect, it } from 'vitest';
import type { TraceHook } from '../../src/attribution/session.js';
import { runLoop, type Strategy } from '../../src/core/lifecycle.js';
import { RunEnded } from '../../src/harness/record.js';
import { fakeLauncher } from '../support/fakes.js';

function tracer(log: string[]): TraceHook {
  return {
    command: (command) => ['strace', '--', ...command],
    excluded: new Set(),
    attached: async (pid) => void log.push(`attached ${pid}`),
    pin: (survivors) => void log.push(`pin ${survivors.map((s) => s.fd).join(',')}`),
  };
}

/** A strategy that logs every phase; `failAt` throws from that step, `endAt` ends the loop there. */
function scripted(log: string[], over: Partial<Strategy<string>> & { failAt?: number; endAt?: number; error?: unknown } = {}): Strategy<string> {
  return {
    launch: { command: ['prog'], ulimit: 64 },
    readyTimeoutMs: 100,
    steps: 4,
    graceMs: 10,
    ready: async (run) => (log.push('ready'), run.child?.pid),
    baseline: async (run) => {
      log.push('baseline');
      run.observeFds(7, 0, [{ fd: 3, kind: 'pipe', target: 'pipe:[1]' }]);
    },
    step: async (k, run) => {
      log.push(`step ${k}`);
      if (k === over.failAt) throw over.error ?? new RunEnded('child-exited', `gone at ${k}`);
      run.observeFds(7, k, [{ fd: 3, kind: 'pipe', target: 'pipe:[1]' }, { fd: 4 + k, kind: 'pipe', target: `pipe:[${10 + k}]` }]);
      return k === over.endAt ? 'end' : 'next';
    },
    ended: async (error) => (log.push(`ended ${(error as Error).message}`), error instanceof RunEnded),
    end: async () => void log.push('end'),
    finish: (exit) => (log.push(`finish ${exit ? 'stopped' : 'none'}`), 'done'),
    ...over,
  };
}

describe('runLoop', () => {
  it('runs launch → ready → attach → baseline → steps → end → pin → teardown → finish, once each, in that order', async () => {
    const log: string[] = [];
    const fake = fakeLauncher({ start: [], onSignal: () => [] });
    const result = await runLoop(scripted(log, { trace: tracer(log) }), { launch: fake.launch, onChild: () => log.push('child') });
    expect(result).toBe('done');
    expect(fake.commands.map((c) => c.command)).toEqual([['strace', '--', 'prog']]);
    expect(log).toEqual(['child', 'ready', 'attached 4000000', 'baseline', 'step 1', 'step 2', 'step 3', 'step 4', 'end', 'pin 8', 'finish stopped']);
  });

  it("stops at a step that says 'end', and at a RunEnded, still ending, pinning and tearing down", async () => {
    for (const over of [{ endAt: 2 }, { failAt: 3 }]) {
      const log: string[] = [];
      await runLoop(scripted(log, { ...over, trace: tracer(log) }), { launch: fakeLauncher({ start: [], onSignal: () => [] }).launch });
      // The last sample before either is step 2's: its new fd (6) is the one pinned.
      expect(log.slice(-3)).toEqual(['end', 'pin 6', 'finish stopped']);
      expect(log).not.toContain(`step ${(over.endAt ?? over.failAt ?? 0) + 1}`);
    }
  });

  it('tears the child down and throws on an error that is no way for a run to end', async () => {
    const log: string[] = [];
    const fake = fakeLauncher({ start: [], onSignal: () => [] });
    let stopped = false;
    const launch: typeof fake.launch = (options) => {
      const child = fake.launch(options);
      const stop = child.stop.bind(child);
      child.stop = (graceMs) => ((stopped = true), stop(graceMs));
      return child;
    };
    await expect(runLoop(scripted(log, { failAt: 1, error: new TypeError('a bug') }), { launch })).rejects.toThrow('a bug');
    expect(stopped).toBe(true);
    expect(log).not.toContain('end');
  });

  it('ends the run as aborted before a named step when Ctrl-C came, and attaches nothing without a child', async () => {
    const log: string[] = [];
    const abort = new AbortController();
    abort.abort();
    const strategy = scripted(log, { launch: undefined, trace: tracer(log), stepName: (k) => `reload ${k}` });
    expect(await runLoop(strategy, { abort: abort.signal })).toBe('done');
    expect(log).toEqual(['ready', 'baseline', 'ended aborted before reload 1', 'end', 'pin ', 'finish none']);
  });
});
