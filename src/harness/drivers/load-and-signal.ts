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
import { constants as osConstants } from 'node:os';
import { runLoop, type RunContext, type Strategy } from '../../core/lifecycle.js';
import { programLeft } from '../../core/program.js';
import type { ChildExit, KeptOutput } from '../../model/run-document.js';
import type { DrainEnd, DrainServer, PhaseEvent } from '../../model/drain.js';
import { procfsView } from '../../proc/procfs-view.js';
import { WaitError } from '../child-output.js';
import type { LaunchedChild, LaunchOptions } from '../launch.js';
import { type GeneratorStats, type LoadPlan, LoadGenerator } from '../load/generator.js';
import { Ledger, type LedgerSummary, type ServerState } from '../load/ledger.js';
import { listenerOwner } from '../load/listener-owner.js';
import { Timeline, type TimelineData } from '../load/timeline.js';
import { RunEnded } from '../record.js';
import { synchronousWait } from '../tree/safety.js';
import { descendants } from '../tree/tree.js';
import { commOf, dispositionOf, takers } from './settle-signals.js';

export interface LoadAndSignalPlan {
  command: string[];
  readyTimeoutMs: number;
  /**
   * Where the load goes. Absent: the child's `ready` event carries `port`
   * (graceful-drain children). Given: wait until `host:port` answers the
   * readiness path with 200 (a foreign server, `repro drain --url`).
   */
  target?: { host: string; port: number };
  /** Where readiness is asked when not the target (repro drain --ready-url): host, port and path. */
  readyTarget?: { host: string; port: number; path: string };
  signal: NodeJS.Signals;
  /**
   * Under the keeper, where the signal goes: the program (or the daemon it left), its process group, or
   * every process of its tree that catches it plus the one holding the listener (default `program`).
   */
  signalTo?: 'program' | 'group' | 'tree';
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
  ended: { reason: DrainEnd; detail: string };
  pid: number | null;
  /** Under the keeper: the process that held the listener and where the signal went. */
  server?: DrainServer;
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

/**
 * Waits until GET `path` on host:port answers 200, polling every 20 ms. Each poll may take what is left
 * of the wait (a server that answers in 1.2 s is ready, not late); an abort cuts the poll at once.
 */
export async function awaitHttpReady(host: string, port: number, path: string, timeoutMs: number, alive: () => boolean, abort?: AbortSignal): Promise<void> {
  const { HttpConnection } = await import('../load/http-exchange.js');
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    if (abort?.aborted) throw new RunEnded('aborted', 'aborted while waiting for the server to answer');
    if (!alive()) throw new RunEnded('child-exited', 'the server exited before it answered');
    const conn = new HttpConnection(host, port);
    const cut = () => conn.destroy();
    abort?.addEventListener('abort', cut, { once: true });
    const exchange = await conn.request({ method: 'GET', path, close: true, timeoutMs: Math.max(1, Math.ceil(until - performance.now())) });
    abort?.removeEventListener('abort', cut);
    conn.destroy();
    if (exchange.outcome === 'ok') return;
    await sleep(20, abort);
  }
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
  throw new RunEnded('ready-timeout', `${url} did not answer 200 within ${timeoutMs} ms`);
}

/** Settles with 'aborted' when the run is interrupted (never, without an abort signal); `off` removes the listener. */
function aborted(abort: AbortSignal | undefined): { on: Promise<'aborted'>; off(): void } {
  let off = () => {};
  const on = new Promise<'aborted'>((resolve) => {
    if (!abort) return;
    if (abort.aborted) return resolve('aborted');
    const done = () => resolve('aborted');
    abort.addEventListener('abort', done, { once: true });
    off = () => abort.removeEventListener('abort', done);
  });
  return { on, off: () => off() };
}

/** How an error thrown before the server's end ends the run, or undefined when it is not a way for a run to end. */
function loadEnd(error: unknown): LoadAndSignalResult['ended'] | undefined {
  if (error instanceof WaitError) return { reason: error.reason === 'aborted' ? 'aborted' : error.reason === 'exited' ? 'child-exited' : 'ready-timeout', detail: `${error.phase}: ${error.message}` };
  if (!(error instanceof RunEnded)) return undefined;
  const known: readonly string[] = ['aborted', 'child-exited', 'ready-timeout', 'not-delivered'];
  return { reason: known.includes(error.reason) ? (error.reason as DrainEnd) : 'child-exited', detail: error.detail };
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

/** What a signal does to the process that holds the listener, read just before it is sent. */
type Disposition = DrainServer['disposition'];

/**
 * The load driver as a strategy of the lifecycle: ready is the server up
 * (its port known, the process holding its listener found, the baseline
 * probe taken), and its one step is the load, the signal at a seeded moment,
 * the lag, and the grace period.
 */
class LoadAndSignal implements Strategy<LoadAndSignalResult> {
  readonly launch;
  readonly readyTimeoutMs;
  readonly steps = 1;
  readonly graceMs = 500;
  readonly #maxDurationMs: number;
  #child: LaunchedChild | undefined;
  /** The server's own pid: under the keeper the process holding the listener (else the program it started). */
  #serverPid = -1;
  /** Under the keeper: the listener's holder, and where the signal went. */
  #server: DrainServer | undefined;
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

  /** The server is up: its `ready` event named its port, or the target answered its readiness path; then the listener's holder and the baseline probe. */
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
      const ready = plan.readyTarget ?? { host: this.#host, port: this.#port, path: plan.load.paths?.ready ?? '/ready' };
      await awaitHttpReady(ready.host, ready.port, ready.path, plan.readyTimeoutMs, () => child.isRunning(), this.hooks.abort);
    } else {
      const ready = await child.output.waitFor((e) => e.event === 'ready', plan.readyTimeoutMs, 'ready', this.hooks.abort);
      const p = (ready.event as unknown as Record<string, unknown>).port;
      if (typeof p !== 'number' || !Number.isInteger(p) || p <= 0) throw new RunEnded('ready-timeout', 'the ready event has no "port" field: the load has nowhere to go');
      this.#port = p;
    }
    if (plan.keeper) {
      this.#programPidSeen = await child.tree?.program;
      this.#serverPid = this.#programPidSeen ?? child.pid;
      // The process that holds the listener is the server (a wrapper's child, a daemon, a master over workers).
      const owner = listenerOwner(child.pid, this.#port, { includeRoot: false });
      if (owner) this.#serverPid = owner.pid;
      else this.#serverPid = programLeft(child)?.daemon ?? this.#serverPid;
    }
    await this.hooks.onReady?.(this.#serverPid, this.#port);
    this.#ledger = new Ledger(performance.now(), plan.lagMs, plan.graceMs, new Timeline(this.#ledger.timeline.bucketMs, this.#ledger.timeline.maxBuckets));
    return undefined;
  }

  /** Load, the warm-up, the signal (and a second one), then the server's exit or SIGKILL at the grace period; an interruption ends any wait. */
  async step(): Promise<'end'> {
    const { plan } = this;
    const child = this.#child as LaunchedChild;
    const ledger = this.#ledger;
    const generator = new LoadGenerator(
      { ...plan.load, host: this.#host, port: this.#port as number, seed: plan.seed, lagMs: plan.lagMs, maxDurationMs: this.#maxDurationMs, ...(plan.readyTarget ? { readyTarget: plan.readyTarget } : {}) },
      ledger,
      () => this.#serverState(),
    );
    this.#generator = generator;
    generator.start();
    await sleep(plan.warmupMs + generator.random().int(0, plan.signalJitterMs), this.hooks.abort);
    if (this.hooks.abort?.aborted) throw new RunEnded('aborted', 'aborted during the warm-up');
    if (!child.isRunning()) throw new RunEnded('child-exited', 'the server exited during the warm-up');
    const pids = this.#signalTargets();
    ledger.signalAt = performance.now();
    this.#signalServer(plan.signal, pids);
    const second = plan.secondSignal && setTimeout(() => this.#secondSignal(), plan.secondSignal.afterMs);
    const grace = deadline(ledger.signalAt + plan.graceMs);
    const interrupted = aborted(this.hooks.abort);
    const first = await Promise.race([child.exited.then(() => 'exited' as const), grace.over, interrupted.on]);
    grace.cancel();
    interrupted.off();
    clearTimeout(second);
    if (first === 'aborted') throw new RunEnded('aborted', `aborted ${Math.round(performance.now() - ledger.signalAt)} ms after ${plan.signal}, while the server had its grace period`);
    if (first === 'grace') {
      this.#killAt = performance.now();
      ledger.killAt = this.#killAt;
      ledger.connectionsOpenAtKill = generator.openConnections();
      child.killNow();
    }
    const how = await child.exited;
    ledger.exitAt = performance.now();
    ledger.exit = this.#exitOf(how, first === 'grace');
    if (ledger.listenerClosedAt === undefined) {
      ledger.listenerClosedAt = ledger.exitAt;
      ledger.listenerClosedFrom = 'exit';
    }
    generator.serverGone();
    const stop = () => generator.stop();
    this.hooks.abort?.addEventListener('abort', stop, { once: true });
    this.#stats = await generator.finish();
    this.hooks.abort?.removeEventListener('abort', stop);
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
    if (this.#ended.reason === 'done') this.#ended.detail = exit?.killed ? `killed after the grace period (${this.plan.graceMs} ms)` : `the server exited ${exit?.signal ? `on ${exit.signal}` : exit?.code === null ? '' : `with code ${exit?.code}`}`.trimEnd();
  }

  finish(exit: ChildExit | null): LoadAndSignalResult {
    const child = this.#child as LaunchedChild;
    return {
      ended: this.#ended,
      pid: this.#serverPid > 0 ? this.#serverPid : null,
      ...(this.#server ? { server: this.#server } : {}),
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

  /**
   * How the server ended. Under the keeper the launched process mirrors the program's status; a
   * listener held by another process (a wrapper's child, a daemon) is not repro's child, so that it
   * ended is known and its status is not.
   */
  #exitOf(how: { exitCode: number | null; signal: string | null }, killed: boolean): NonNullable<Ledger['exit']> {
    const program = this.#child?.tree ? programLeft(this.#child) : undefined;
    const ownsIt = !this.#server || this.#server.listenerPid === this.#programPid();
    if (ownsIt || killed) return { code: killed ? how.exitCode : (program?.exit.exitCode ?? how.exitCode), signal: killed ? how.signal : (program?.exit.signal ?? how.signal), killed };
    return { code: null, signal: null, killed, statusUnread: true };
  }

  #programPid(): number | undefined {
    return this.#child?.tree ? this.#programPidSeen : undefined;
  }

  /** The program's pid as the keeper reported it (kept when ready). */
  #programPidSeen: number | undefined;

  #serverState(): ServerState {
    if (this.#killAt !== undefined) return 'killed';
    // The keeper sees an exit late (when the whole tree is gone): the listener's holder is read directly.
    return !(this.#child as LaunchedChild).isRunning() || gone(this.#serverPid) ? 'exited' : 'running';
  }

  #secondSignal(): void {
    if (!(this.#child as LaunchedChild).isRunning() || !this.plan.secondSignal) return;
    this.#ledger.secondSignalAt = performance.now();
    this.#signalServer(this.plan.secondSignal.signal, this.#signalTargets());
  }

  /**
   * Where the signal goes (under the keeper; else undefined: the child itself), checked before it is
   * sent: the process holding the listener must get it, and must not ignore it, or no shutdown can be
   * measured (exit 4 with the fix, as watch refuses a wrapper without the handler).
   */
  #signalTargets(): number[] | undefined {
    const child = this.#child as LaunchedChild;
    if (!this.plan.keeper) return undefined;
    const program = programLeft(child);
    const target = program?.daemon ?? this.#programPidSeen ?? this.#serverPid;
    const view = procfsView();
    const signo = osConstants.signals[this.plan.signal];
    const owner = this.#port === null ? undefined : listenerOwner(child.pid, this.#port, { includeRoot: false });
    if (owner) this.#serverPid = owner.pid;
    const holder = owner?.pid ?? target;
    const to = this.plan.signalTo ?? 'program';
    let pids: number[];
    if (to === 'group') {
      const pgid = view.stat(target)?.pgid;
      pids = descendants(child.pid, { includeRoot: false }).filter((p) => view.stat(p.pid)?.pgid === pgid).map((p) => p.pid);
    } else if (to === 'tree') pids = [...new Set([...takers(child.pid, { includeRoot: false }, signo).map((p) => p.pid), holder])];
    else pids = [target];
    const disposition = readDisposition(holder, signo);
    this.#server = { listenerPid: holder, listenerComm: commOf(holder, view), signalledPids: pids, disposition };
    const sig = this.plan.signal;
    if (disposition === 'ignored') {
      throw new RunEnded('not-delivered', `pid ${holder} (${commOf(holder, view)}), which holds the listening socket, ignores ${sig} (SigIgn): it can never shut down on it; send the signal it shuts down on (--signal), or stop ignoring it`);
    }
    if (!pids.includes(holder) && !passesOn(target, signo)) {
      throw new RunEnded(
        'not-delivered',
        `${sig} would go to pid ${target} (${commOf(target, view)}), which has no handler to pass it on, but pid ${holder} (${commOf(holder, view)}) holds the listening socket: start the server with exec (e.g. \`exec python3 app.py\` in the wrapper), or send the signal with --signal-to group or --signal-to tree`,
      );
    }
    return pids;
  }

  /** Sends the signal: to the child itself, or (under the keeper) to the pids #signalTargets chose, or the group. */
  #signalServer(sig: NodeJS.Signals, pids: number[] | undefined): void {
    if (pids === undefined) {
      (this.#child as LaunchedChild).signal(sig);
      return;
    }
    const group = this.plan.signalTo === 'group' ? procfsView().stat(pids[0] ?? -1)?.pgid : undefined;
    for (const pid of group === undefined ? pids : [-group]) {
      try {
        process.kill(pid, sig);
      } catch {
        // gone meanwhile
      }
    }
  }
}

/**
 * Whether a process between repro and the server may pass the signal on: it has a handler (dumb-init,
 * a shell's trap), or takes it synchronously (tini blocks it and waits in sigtimedwait), as watch reads it.
 */
function passesOn(pid: number, signo: number | undefined): boolean {
  const disposition = readDisposition(pid, signo);
  if (disposition === 'caught' || disposition === 'blocked' || disposition === 'unknown') return true;
  return disposition === 'default' && signo !== undefined && synchronousWait(pid, signo) !== null;
}

/** What `pid` does with signal `signo` (its /proc status masks), or `unknown` when it cannot be read. */
function readDisposition(pid: number, signo: number | undefined): Disposition {
  if (signo === undefined) return 'unknown';
  try {
    return dispositionOf(procfsView(), pid, signo);
  } catch {
    return 'unknown';
  }
}

export async function runLoadAndSignal(plan: LoadAndSignalPlan, hooks: LoadAndSignalHooks = {}): Promise<LoadAndSignalResult> {
  return runLoop(new LoadAndSignal(plan, hooks), hooks);
}
