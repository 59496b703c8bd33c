/**
 * A fake probe and a fake protocol child, so the drivers can be tested
 * without processes: pure logic only. Everything that touches the kernel is
 * tested with real children elsewhere.
 */
import type { FdEntry, FdProbe } from '../../src/fdprobe/probe.js';
import { ChildOutput } from '../../src/harness/child-output.js';
import type { LaunchedChild, LaunchOptions } from '../../src/harness/launch.js';

/** A probe whose process holds `fds()` pipe fds at each call. */
export function fakeProbe(fds: () => number): FdProbe {
  const list = async (): Promise<FdEntry[]> => Array.from({ length: fds() }, (_, fd) => ({ fd, kind: 'pipe', target: `pipe:[${1000 + fd}]` }));
  return { backend: 'procfs', count: async () => fds(), list, limits: async () => ({ soft: 64, hard: 64 }), rssKb: async () => 1000 };
}

export interface FakeChildScript {
  /** Lines the child writes when it starts. */
  start: string[];
  /** Lines it writes for the n-th signal it gets (1-based); none: it stays silent. */
  onSignal: (n: number) => string[];
}

/** A launcher whose child answers signals from a script, asynchronously as a real one would. */
export function fakeLauncher(script: FakeChildScript): { launch: (o: LaunchOptions) => LaunchedChild; commands: LaunchOptions[]; signals: number } {
  const state = { commands: [] as LaunchOptions[], signals: 0 };
  const launch = (options: LaunchOptions): LaunchedChild => {
    state.commands.push(options);
    const output = new ChildOutput();
    let running = true;
    let resolveExit: (how: { exitCode: number | null; signal: string | null }) => void = () => {};
    const exited = new Promise<{ exitCode: number | null; signal: string | null }>((r) => {
      resolveExit = r;
    });
    setImmediate(() => output.feedStdout(script.start.map((l) => `${l}\n`).join('')));
    return {
      pid: 4_000_000,
      output,
      exited,
      isRunning: () => running,
      signal() {
        if (!running) return false;
        const n = ++state.signals;
        setImmediate(() => output.feedStdout(script.onSignal(n).map((l) => `${l}\n`).join('')));
        return true;
      },
      async stop() {
        if (running) {
          running = false;
          resolveExit({ exitCode: 0, signal: null });
        }
        return { exitCode: 0, signal: null, forced: false, teardownMs: 0 };
      },
      killNow() {
        running = false;
      },
      execFailure: () => undefined,
    };
  };
  return {
    launch,
    get commands() {
      return state.commands;
    },
    get signals() {
      return state.signals;
    },
  };
}
