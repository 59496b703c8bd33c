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
import { runLoop, type RunContext, type Strategy } from '../../core/lifecycle.js';
import { programLeft } from '../../core/program.js';
import type { ChildExit, KeptOutput } from '../../model/run-document.js';
import type { PhaseEvent } from '../../model/drain.js';
import { WaitError } from '../child-output.js';
import type { LaunchedChild, LaunchOptions } from '../launch.js';
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

/** PF_EXITING in /proc/PID/stat's flags: the task is inside exit(). */
const PF_EXITING = 0x4;

/**
 * Exited, a zombie, or exiting: the process runs no more of its own code. Its
 * fds (the listener among them) are closed inside exit(), after the leader is
 * marked exiting and before it is a zombie: a refusal in that window came with
 * the process's death (it read as "server running" under load).
 */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' || (Number(fields[6]) & PF_EXITING) !== 0;
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

/** How an error thrown before the server's end ends the run, or undefined when it is not a way for a run to end. */
function loadEnd(error: unknown): LoadAndSignalResult['ended'] | undefined {
  if (error instanceof WaitError) return { reason: error.reason === 'aborted' ? 'aborted' : error.reason === 'exited' ? 'child-exited' : 'ready-timeout', detail: `${error.phase}: ${error.message}` };
  if (!(error instanceof RunEnded)) return undefined;
  return { reason: error.reason === 'aborted' || error.reason === 'child-exited' || error.reason === 'ready-timeout' ? error.reason : 'child-exited', detail: error.detail };
}

/** A deadline, not one timer: Node's timers run on the loop's cached clock and can fire up to a millisecond before performance.now() says it is over. */
function deadline(atMs: number): { over: Promise<'grace'>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const over = new Promise<'grace'>((r) => {
    const check = () => {
      const left = atMs - performance.now();
      if (left <= 0) r('grace');
      else timer = setTimeout(check, Math.ceil(left));
    };
    check();
  });
  return { over, cancel: () => clearTimeout(timer) };
}

/**
 * The load driver as a strategy of the lifecycle: ready is the server up
 * (its port known, the baseline probe taken), and its one step is the load,
 * the signal at a seeded moment, the lag, and the grace period.
 */
class LoadAndSignal implements Strategy<LoadAndSignalResult> {
  readonly launch;
  readonly readyTimeoutMs;
  readonly steps = 1;
  readonly graceMs = 500;
  readonly #maxDurationMs: number;
  #child: LaunchedChild | undefined;
  /** The server's own pid: under the keeper the program it started, once it says so. */
  #serverPid = -1;
  readonly #events: PhaseEvent[] = [];
  #ledger: Ledger;
  #killAt: number | undefined;
  #port: number | null = null;
  #host: string;
  #generator: LoadGenerator | undefined;
  #stats: GeneratorStats = { started: 0, readinessPolls: 0, durationMs: 0, peakConnections: 0 };
  #ended: LoadAndSignalResult['ended'] = { reason: 'done', detail: '' };

  constructor(
    readonly plan: LoadAndSignalPlan,
    readonly hooks: LoadAndSignalHooks,
  ) {
    this.launch = { command: plan.command, ulimit: plan.ulimit, ...(plan.keeper ? { keeper: plan.keeper } : {}) };
    this.readyTimeoutMs = plan.readyTimeoutMs;
    this.#host = plan.target?.host ?? '127.0.0.1';
    this.#maxDurationMs = plan.load.maxDurationMs ?? plan.warmupMs + plan.signalJitterMs + Math.max(plan.lagMs, plan.graceMs) + plan.load.requestTimeoutMs + 2000;
    const buckets = plan.maxTimelineBuckets ?? 240;
    this.#ledger = new Ledger(performance.now(), plan.lagMs, plan.graceMs, new Timeline(Math.max(5, Math.ceil(this.#maxDurationMs / buckets)), buckets));
  }

  /** The server is up: its `ready` event named its port, or the target answered its readiness path; then the baseline probe. */
  async ready(run: RunContext): Promise<undefined> {
    const child = run.child as LaunchedChild;
    const { plan } = this;
    this.#child = child;
    this.#serverPid = child.pid;
    child.output.onOtherEvent((event) => {
      const now = performance.now();
      const signalAt = this.#ledger.signalAt;
      if (this.#events.length < 200) this.#events.push({ ...event, harnessMs: signalAt === undefined ? -0 : Math.round((now - signalAt) * 10) / 10 });
      if (event.event === 'listener-closed') {
        this.#ledger.listenerClosedAt = now;
        this.#ledger.listenerClosedFrom = 'child-event';
      }
    });
    if (plan.target) {
      this.#port = plan.target.port;
      await awaitHttpReady(this.#host, this.#port, plan.load.paths?.ready ?? '/ready', plan.readyTimeoutMs, () => child.isRunning(), this.hooks.abort);
    } else {
      const ready = await child.output.waitFor((e) => e.event === 'ready', plan.readyTimeoutMs, 'ready', this.hooks.abort);
      const p = (ready.event as unknown as Record<string, unknown>).port;
      if (typeof p !== 'number' || !Number.isInteger(p) || p <= 0) throw new RunEnded('ready-timeout', 'the ready event has no "port" field: the load has nowhere to go');
      this.#port = p;
    }
    if (plan.keeper) this.#serverPid = (await child.tree?.program) ?? child.pid;
    await this.hooks.onReady?.(this.#serverPid, this.#port);
    this.#ledger = new Ledger(performance.now(), plan.lagMs, plan.graceMs, new Timeline(this.#ledger.timeline.bucketMs, this.#ledger.timeline.maxBuckets));
    return undefined;
  }

  /** Load, the warm-up, the signal (and a second one), then the server's exit or SIGKILL at the grace period. */
  async step(): Promise<'end'> {
    const { plan } = this;
    const child = this.#child as LaunchedChild;
    const ledger = this.#ledger;
    const generator = new LoadGenerator({ ...plan.load, host: this.#host, port: this.#port as number, seed: plan.seed, lagMs: plan.lagMs, maxDurationMs: this.#maxDurationMs }, ledger, () => this.#serverState());
    this.#generator = generator;
    generator.start();
    await sleep(plan.warmupMs + generator.random().int(0, plan.signalJitterMs), this.hooks.abort);
    if (this.hooks.abort?.aborted) throw new RunEnded('aborted', 'aborted during the warm-up');
    if (!child.isRunning()) throw new RunEnded('child-exited', 'the server exited during the warm-up');

    ledger.signalAt = performance.now();
    this.#signalServer(plan.signal);
    const second = plan.secondSignal && setTimeout(() => this.#secondSignal(), plan.secondSignal.afterMs);
    const grace = deadline(ledger.signalAt + plan.graceMs);
    const first = await Promise.race([child.exited.then(() => 'exited' as const), grace.over]);
    grace.cancel();
    clearTimeout(second);
    if (first === 'grace') {
      this.#killAt = performance.now();
      ledger.killAt = this.#killAt;
      ledger.connectionsOpenAtKill = generator.openConnections();
      child.killNow();
    }
    const how = await child.exited;
    ledger.exitAt = performance.now();
    ledger.exit = { code: how.exitCode, signal: how.signal, killed: first === 'grace' };
    if (ledger.listenerClosedAt === undefined) {
      ledger.listenerClosedAt = ledger.exitAt;
      ledger.listenerClosedFrom = 'exit';
    }
    generator.serverGone();
    this.#stats = await generator.finish();
    return 'end';
  }

  async ended(error: unknown): Promise<boolean> {
    this.#generator?.stop();
    if (this.#generator) this.#stats = await this.#generator.finish();
    const ended = loadEnd(error);
    if (ended) this.#ended = ended;
    return ended !== undefined;
  }

  async end(): Promise<void> {
    const exit = this.#ledger.exit;
    if (this.#ended.reason === 'done') this.#ended.detail = exit?.killed ? `killed after the grace period (${this.plan.graceMs} ms)` : `the server exited ${exit?.signal ? `on ${exit.signal}` : `with code ${exit?.code}`}`;
  }

  finish(exit: ChildExit | null): LoadAndSignalResult {
    const child = this.#child as LaunchedChild;
    return {
      ended: this.#ended,
      pid: this.#serverPid > 0 ? this.#serverPid : null,
      port: this.#port,
      ledger: this.#ledger.summary(),
      timeline: this.#ledger.timelineData(),
      events: this.#events,
      generator: this.#stats,
      child: exit,
      stdout: child.output.stdout.view(),
      stderr: child.output.stderr.view(),
    };
  }

  #serverState(): ServerState {
    if (this.#killAt !== undefined) return 'killed';
    return !(this.#child as LaunchedChild).isRunning() || (!this.plan.keeper && gone(this.#serverPid)) ? 'exited' : 'running';
  }

  #secondSignal(): void {
    if (!(this.#child as LaunchedChild).isRunning() || !this.plan.secondSignal) return;
    this.#ledger.secondSignalAt = performance.now();
    this.#signalServer(this.plan.secondSignal.signal);
  }

  /**
   * Signals go to the server: under the keeper, the program, or, when it exited and left a process
   * running (it daemonized), the process it left, as a service manager would signal a daemon.
   */
  #signalServer(sig: NodeJS.Signals): void {
    const daemon = this.plan.keeper ? programLeft(this.#child)?.daemon : undefined;
    if (daemon === undefined) {
      (this.#child as LaunchedChild).signal(sig);
      return;
    }
    try {
      process.kill(daemon, sig);
    } catch {
      // gone meanwhile
    }
    this.#serverPid = daemon;
  }
}

export async function runLoadAndSignal(plan: LoadAndSignalPlan, hooks: LoadAndSignalHooks = {}): Promise<LoadAndSignalResult> {
  return runLoop(new LoadAndSignal(plan, hooks), hooks);
}
