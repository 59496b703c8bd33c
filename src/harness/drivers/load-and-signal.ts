/**
 * The load-and-signal driver (scenario graceful-drain, and later
 * `repro drain`): start an HTTP server, wait until it is up, put it under the
 * load generator's load, send the signal at a seeded moment after the
 * warm-up, keep the load on through `lagMs` (the routing lag), and play the
 * orchestrator: SIGKILL after `graceMs` if it has not exited. Every request
 * ends up in the ledger. Optionally a second signal is sent `afterMs` after
 * the first, to time the forced exit.
 *
 * It measures; it does not judge (src/kinds/drain/judge.ts does, after the run).
 */
import { readFileSync } from 'node:fs';
import type { ChildExit, KeptOutput } from '../../model/run-document.js';
import type { PhaseEvent } from '../../model/drain.js';
import { WaitError } from '../child-output.js';
import { programPidOf } from '../tree/keeper.js';
import { launchChild, type LaunchedChild, type LaunchOptions } from '../launch.js';
import { type GeneratorStats, type LoadPlan, LoadGenerator } from '../load/generator.js';
import { Ledger, type LedgerSummary, type ServerState } from '../load/ledger.js';
import { Timeline, type TimelineData } from '../load/timeline.js';
import { RunEnded } from '../record.js';

export interface LoadAndSignalPlan {
  command: string[];
  readyTimeoutMs: number;
  /**
   * Where the load goes. Absent: the child's `ready` event carries `port`
   * (graceful-drain children). Given: wait until `host:port` answers the
   * readiness path with 200 (a foreign server, `repro drain --url`).
   */
  target?: { host: string; port: number };
  signal: NodeJS.Signals;
  /** Load before the signal, at least. */
  warmupMs: number;
  /** The signal comes at warmupMs + a seeded value in [0, signalJitterMs]. */
  signalJitterMs: number;
  seed: number;
  /** Clients keep opening connections this long after the signal. */
  lagMs: number;
  /** SIGKILL this long after the signal if the server is still there (terminationGracePeriod). */
  graceMs: number;
  /** Send a second signal this long after the first (the second Ctrl-C). */
  secondSignal?: { signal: NodeJS.Signals; afterMs: number };
  /** The load's shape; host, port, seed and lag come from above. */
  load: Omit<LoadPlan, 'host' | 'port' | 'seed' | 'lagMs' | 'maxDurationMs'> & { maxDurationMs?: number };
  /** Most timeline buckets kept (default 240). */
  maxTimelineBuckets?: number;
  ulimit?: number;
  /**
   * Start the server under the process-tree keeper (`repro drain`: a server nobody wrote for repro may
   * run behind a shell or daemonize): the signal goes to the program, and nothing of its tree outlives the
   * run, SIGKILL of repro included. The server is gone when its whole tree is.
   */
  keeper?: { graceMs: number };
}

export interface LoadAndSignalHooks {
  abort?: AbortSignal;
  onChild?: (child: LaunchedChild) => void;
  launch?: (options: LaunchOptions) => LaunchedChild;
  /** Called once the server is up (its port known), before any load: the place for a baseline probe of the process. */
  onReady?: (pid: number, port: number) => Promise<void> | void;
}

export type { PhaseEvent } from '../../model/drain.js';

export interface LoadAndSignalResult {
  /** How the run ended: `done` (the server exited or was killed after the signal), or why it could not get that far. */
  ended: { reason: 'done' | 'ready-timeout' | 'child-exited' | 'aborted'; detail: string };
  pid: number | null;
  port: number | null;
  ledger: LedgerSummary;
  timeline: TimelineData;
  /** The child's own phase events (bounded to 200). */
  events: PhaseEvent[];
  generator: GeneratorStats;
  child: ChildExit | null;
  stdout: KeptOutput;
  stderr: KeptOutput;
}

const sleep = (ms: number, abort?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      abort?.removeEventListener('abort', done);
      resolve();
    }
    abort?.addEventListener('abort', done, { once: true });
  });

/** Exited or a zombie: the process runs no more code and holds no sockets. */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

/** Waits until GET `path` on host:port answers 200, polling every 20 ms. */
async function awaitHttpReady(host: string, port: number, path: string, timeoutMs: number, alive: () => boolean, abort?: AbortSignal): Promise<void> {
  const { HttpConnection } = await import('../load/http-exchange.js');
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    if (abort?.aborted) throw new RunEnded('aborted', 'aborted while waiting for the server to answer');
    if (!alive()) throw new RunEnded('child-exited', 'the server exited before it answered');
    const conn = new HttpConnection(host, port);
    const exchange = await conn.request({ method: 'GET', path, close: true, timeoutMs: 1000 });
    conn.destroy();
    if (exchange.outcome === 'ok') return;
    await sleep(20, abort);
  }
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
  throw new RunEnded('ready-timeout', `${url} did not answer 200 within ${timeoutMs} ms`);
}

export async function runLoadAndSignal(plan: LoadAndSignalPlan, hooks: LoadAndSignalHooks = {}): Promise<LoadAndSignalResult> {
  const child = (hooks.launch ?? launchChild)({ command: plan.command, ulimit: plan.ulimit, ...(plan.keeper ? { keeper: plan.keeper } : {}) });
  hooks.onChild?.(child);
  /** The server's own pid: under the keeper the program it started, once it says so. */
  let serverPid = child.pid;
  /**
   * Signals go to the server: under the keeper, the program, or, when it exited and left a process
   * running (it daemonized), the process it left, as a service manager would signal a daemon.
   */
  const signalServer = (sig: NodeJS.Signals): void => {
    if (plan.keeper && child.tree?.programExit()) {
      const daemon = programPidOf(child.pid);
      if (daemon !== undefined) {
        try {
          process.kill(daemon, sig);
        } catch {
          // gone meanwhile
        }
        serverPid = daemon;
        return;
      }
    }
    child.signal(sig);
  };
  const events: PhaseEvent[] = [];
  let ledger: Ledger | undefined;
  let killAt: number | undefined;
  const serverState = (): ServerState => (killAt !== undefined ? 'killed' : !child.isRunning() || (!plan.keeper && gone(serverPid)) ? 'exited' : 'running');
  child.output.onOtherEvent((event) => {
    const now = performance.now();
    const signalAt = ledger?.signalAt;
    if (events.length < 200) events.push({ ...event, harnessMs: signalAt === undefined ? -0 : Math.round((now - signalAt) * 10) / 10 });
    if (event.event === 'listener-closed' && ledger) {
      ledger.listenerClosedAt = now;
      ledger.listenerClosedFrom = 'child-event';
    }
  });

  let port: number | null = null;
  let generator: LoadGenerator | undefined;
  let stats: GeneratorStats = { started: 0, readinessPolls: 0, durationMs: 0, peakConnections: 0 };
  let ended: LoadAndSignalResult['ended'] = { reason: 'done', detail: '' };
  const maxDurationMs = plan.load.maxDurationMs ?? plan.warmupMs + plan.signalJitterMs + Math.max(plan.lagMs, plan.graceMs) + plan.load.requestTimeoutMs + 2000;
  ledger = new Ledger(performance.now(), plan.lagMs, plan.graceMs, new Timeline(Math.max(5, Math.ceil(maxDurationMs / (plan.maxTimelineBuckets ?? 240))), plan.maxTimelineBuckets ?? 240));

  try {
    const host = plan.target?.host ?? '127.0.0.1';
    if (plan.target) {
      port = plan.target.port;
      await awaitHttpReady(host, port, plan.load.paths?.ready ?? '/ready', plan.readyTimeoutMs, () => child.isRunning(), hooks.abort);
    } else {
      const ready = await child.output.waitFor((e) => e.event === 'ready', plan.readyTimeoutMs, 'ready', hooks.abort);
      const p = (ready.event as unknown as Record<string, unknown>).port;
      if (typeof p !== 'number' || !Number.isInteger(p) || p <= 0) throw new RunEnded('ready-timeout', 'the ready event has no "port" field: the load has nowhere to go');
      port = p;
    }
    if (plan.keeper) serverPid = (await child.tree?.program) ?? child.pid;
    await hooks.onReady?.(serverPid, port);
    ledger = new Ledger(performance.now(), plan.lagMs, plan.graceMs, new Timeline(ledger.timeline.bucketMs, ledger.timeline.maxBuckets));
    const theLedger = ledger;
    generator = new LoadGenerator({ ...plan.load, host, port, seed: plan.seed, lagMs: plan.lagMs, maxDurationMs }, theLedger, serverState);
    generator.start();
    await sleep(plan.warmupMs + generator.random().int(0, plan.signalJitterMs), hooks.abort);
    if (hooks.abort?.aborted) throw new RunEnded('aborted', 'aborted during the warm-up');
    if (!child.isRunning()) throw new RunEnded('child-exited', 'the server exited during the warm-up');

    theLedger.signalAt = performance.now();
    signalServer(plan.signal);
    let second: NodeJS.Timeout | undefined;
    if (plan.secondSignal) {
      const { signal, afterMs } = plan.secondSignal;
      second = setTimeout(() => {
        if (!child.isRunning()) return;
        theLedger.secondSignalAt = performance.now();
        signalServer(signal);
      }, afterMs);
    }
    let graceTimer: NodeJS.Timeout | undefined;
    // A deadline, not one timer: Node's timers run on the loop's cached clock and can fire up to a
    // millisecond before performance.now() says the grace period is over.
    const graceEnds = theLedger.signalAt + plan.graceMs;
    const graceOver = new Promise<'grace'>((r) => {
      const check = () => {
        const left = graceEnds - performance.now();
        if (left <= 0) r('grace');
        else graceTimer = setTimeout(check, Math.ceil(left));
      };
      check();
    });
    const first = await Promise.race([child.exited.then(() => 'exited' as const), graceOver]);
    clearTimeout(graceTimer);
    clearTimeout(second);
    if (first === 'grace') {
      killAt = performance.now();
      theLedger.killAt = killAt;
      theLedger.connectionsOpenAtKill = generator.openConnections();
      child.killNow();
    }
    const how = await child.exited;
    theLedger.exitAt = performance.now();
    theLedger.exit = { code: how.exitCode, signal: how.signal, killed: first === 'grace' };
    if (theLedger.listenerClosedAt === undefined) {
      theLedger.listenerClosedAt = theLedger.exitAt;
      theLedger.listenerClosedFrom = 'exit';
    }
    generator.serverGone();
    stats = await generator.finish();
  } catch (error) {
    generator?.stop();
    if (generator) stats = await generator.finish();
    if (error instanceof WaitError) ended = { reason: error.reason === 'aborted' ? 'aborted' : error.reason === 'exited' ? 'child-exited' : 'ready-timeout', detail: `${error.phase}: ${error.message}` };
    else if (error instanceof RunEnded) ended = { reason: error.reason === 'aborted' || error.reason === 'child-exited' || error.reason === 'ready-timeout' ? error.reason : 'child-exited', detail: error.detail };
    else {
      await child.stop(500);
      throw error;
    }
  }
  if (ended.reason === 'done') ended.detail = ledger.exit?.killed ? `killed after the grace period (${plan.graceMs} ms)` : `the server exited ${ledger.exit?.signal ? `on ${ledger.exit.signal}` : `with code ${ledger.exit?.code}`}`;
  const exit = await child.stop(500);
  return {
    ended,
    pid: serverPid > 0 ? serverPid : null,
    port,
    ledger: ledger.summary(),
    timeline: ledger.timelineData(),
    events,
    generator: stats,
    child: exit,
    stdout: child.output.stdout.view(),
    stderr: child.output.stderr.view(),
  };
}
