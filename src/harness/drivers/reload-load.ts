/**
 * Load during reloads (repro watch --url): the drain's load generator runs
 * from readiness to after the last reload took effect, and every request is
 * put in the window of the reload whose signal came last before it started
 * (a lost one: before it ended, so a request cut by a reload counts there).
 * With requests flowing no thread is ever idle, so a reload is known to have
 * taken effect from the process world instead (reload-effect.ts), and the
 * next signal waits for that. The load is stopped before the final drain and
 * the last sample: its connections (and the server's side of them) are then
 * closed, so they are never survivors.
 */
import { LoadGenerator, type LoadPlan } from '../load/generator.js';
import type { Exchange } from '../load/http-exchange.js';
import { type ClientKind, Ledger, type ServerState } from '../load/ledger.js';
import type { LossClass, ReloadLoad, ReloadWindow } from '../../model/run-document.js';
import { RunEnded } from '../record.js';
import { awaitHttpReady } from './load-and-signal.js';

export interface ReloadLoadPlan {
  /** The URL every request goes to, as shown. */
  url: string;
  /** Its loopback host (the generator refuses any other). */
  host: string;
  /** Its port: the listener whose holders and inode show a reload's effect. */
  port: number;
  /** Path and query of every request. */
  path: string;
  /** Readiness is asked here when given (--ready-url), else at the URL. */
  ready?: { host: string; port: number; path: string };
  /** Concurrent clients. */
  concurrency: number;
  /** GET (retried once after the keep-alive close race) or POST (never retried). */
  method: 'GET' | 'POST';
  /** Give up (ready-timeout) when readiness has not answered 2xx after this long. */
  readyTimeoutMs: number;
}

/** Load before the first signal, so every window after it starts with requests in flight. */
export const WARMUP_MS = 300;
const REQUEST_TIMEOUT_MS = 5000;
const MAX_CAUSES = 32;
/** The drain's careful client mix: one-shot and kept-alive requests, and idle kept-alive connections as a pool holds them. */
const KINDS: readonly ClientKind[] = ['fresh', 'keepalive', 'keepalive', 'fresh', 'keepalive', 'idle'];

const CLASS_OF: Partial<Record<Exchange['outcome'], LossClass>> = { refused: 'refused', reset: 'reset', unavailable: '5xx', timeout: 'timeout', truncated: 'cut' };

/** A request's loss class during reloads, or undefined when it was answered: the service is meant to stay up, so a refusal is lost at any time, and a 4xx is an answer. */
export function lossClassOf(outcome: Exchange['outcome']): LossClass | undefined {
  return CLASS_OF[outcome];
}

const emptyWindow = (reload: number, startMs: number): ReloadWindow => ({ reload, startMs, requests: 0, ok: 0, otherStatus: 0, lost: 0, lostBy: {}, retried: 0 });

/**
 * The drain's ledger, with each request also counted in its reload window.
 * The drain ledger is never given a signal: its phase is then always
 * `before`, where a refusal is lost as during reloads.
 */
export class WindowLedger extends Ledger {
  readonly #signalAt: number[] = [];
  readonly windows: ReloadWindow[] = [emptyWindow(0, 0)];
  readonly #causes = new Map<string, ReloadLoad['causes'][number]>();
  /** performance.now() at which the latest-started answered request started. */
  lastAnsweredStart = -Infinity;

  /** Reload k's signal was sent at `atMs` (performance.now()): requests that start from now on are in its window. */
  signalSent(reload: number, atMs: number): void {
    this.#signalAt.push(atMs);
    this.windows.push(emptyWindow(reload, round(atMs - this.startedAt)));
  }

  /** The window a request that started at `atMs` belongs to. */
  windowAt(atMs: number): ReloadWindow {
    let i = this.#signalAt.length;
    while (i > 0 && atMs < (this.#signalAt[i - 1] as number)) i -= 1;
    return this.windows[i] as ReloadWindow;
  }

  override record(request: Parameters<Ledger['record']>[0], exchange: Exchange, server: ServerState): void {
    super.record(request, exchange, server);
    const lossClass = lossClassOf(exchange.outcome);
    // A request in flight across a signal and lost was lost to that reload (an old worker reset what it had accepted): counted in its window.
    const w = this.windowAt(lossClass === undefined ? request.startedAt : Math.max(request.startedAt, exchange.endedAt));
    w.requests += 1;
    if (request.retry) w.retried += 1;
    if (lossClass === undefined) {
      this.lastAnsweredStart = Math.max(this.lastAnsweredStart, request.startedAt);
      if (exchange.outcome === 'ok') w.ok += 1;
      else w.otherStatus += 1;
      return;
    }
    w.lost += 1;
    w.lostBy[lossClass] = (w.lostBy[lossClass] ?? 0) + 1;
    const cause = request.retry ? `retried after the keep-alive close race, then ${exchange.cause}` : exchange.cause;
    const key = `${w.reload}\0${lossClass}\0${cause}`;
    const group = this.#causes.get(key);
    if (group) group.count += 1;
    else if (this.#causes.size < MAX_CAUSES) this.#causes.set(key, { reload: w.reload, lossClass, cause, count: 1 });
  }

  causes(): ReloadLoad['causes'] {
    return [...this.#causes.values()].sort((a, b) => b.count - a.count || a.reload - b.reload).map((c) => ({ ...c }));
  }
}

/** The load of one watch --url run: readiness, start, a window per signal, the effect of each reload, stop. */
export class ReloadLoadRun {
  #ledger: WindowLedger | undefined;
  #generator: LoadGenerator | undefined;
  #stopped: Promise<void> | undefined;
  #stoppedAt: number | undefined;
  #tookEffect = 0;
  #note: string | undefined;

  constructor(readonly plan: ReloadLoadPlan) {}

  /** Waits until the readiness URL answers 2xx (the program is up and listening), then starts the load and lets it warm up. */
  async start(alive: () => boolean, abort: AbortSignal | undefined): Promise<void> {
    const ready = this.plan.ready ?? this.plan;
    try {
      await awaitHttpReady(ready.host, ready.port, ready.path, this.plan.readyTimeoutMs, alive, abort);
    } catch (error) {
      if (error instanceof RunEnded && error.reason === 'ready-timeout') throw new RunEnded('ready-timeout', `${error.detail}: the load never started, so no reload was sent; check --url (or --ready-url) and that the program listens there`);
      throw error;
    }
    const ledger = new WindowLedger(performance.now(), 0, 0);
    this.#ledger = ledger;
    const load: LoadPlan = {
      host: this.plan.host,
      port: this.plan.port,
      concurrency: this.plan.concurrency,
      maxRequests: Number.MAX_SAFE_INTEGER,
      // The watch ends the load itself (finishNow); this only bounds a run nobody ends.
      maxDurationMs: 24 * 3600 * 1000,
      seed: 1,
      lagMs: 0,
      workMs: [0, 0],
      longMs: 0,
      thinkMs: 10,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      kinds: KINDS,
      readinessEveryMs: 0,
      afterExitProbes: 0,
      method: this.plan.method,
      paths: { work: () => this.plan.path, stream: () => this.plan.path, ready: ready.path },
    };
    this.#generator = new LoadGenerator(load, ledger, () => 'running');
    this.#generator.start();
    await sleepUnlessAborted(WARMUP_MS, abort);
  }

  get started(): boolean {
    return this.#generator !== undefined;
  }

  signalSent(reload: number, atMs: number): void {
    this.#ledger?.signalSent(reload, atMs);
  }

  /** Reload k took effect `afterMs` after its signal, shown by `evidence`. */
  tookEffect(reload: number, afterMs: number, evidence: string): void {
    const w = this.#ledger?.windows.find((x) => x.reload === reload);
    if (!w) return;
    w.tookEffectMs = round(afterMs);
    w.evidence = evidence;
    this.#tookEffect += 1;
  }

  /** A request that started at or after `atMs` (performance.now()) was answered: the program serves after its reload. */
  answeredSince(atMs: number): boolean {
    return (this.#ledger?.lastAnsweredStart ?? -Infinity) >= atMs;
  }

  /** Ends the load: no new request; those in flight end by their answer or timeout and are counted. Idempotent. */
  stop(): Promise<void> {
    const generator = this.#generator;
    if (!generator) return Promise.resolve();
    this.#stopped ??= generator.finishNow().then(() => {
      this.#stoppedAt = performance.now();
    });
    return this.#stopped;
  }

  /** Ends the load at once (the run is aborted): requests cut by repro are not recorded. */
  abort(note: string): void {
    if (!this.#generator || this.#stopped) return;
    this.#note ??= note;
    this.#generator.stop();
    this.#stopped = Promise.resolve();
  }

  summary(): ReloadLoad | undefined {
    const ledger = this.#ledger;
    if (!ledger) return undefined;
    const windows = ledger.windows.map((w) => ({ ...w, lostBy: { ...w.lostBy } }));
    return {
      url: this.plan.url,
      method: this.plan.method,
      concurrency: this.plan.concurrency,
      total: ledger.total,
      lost: windows.reduce((n, w) => n + w.lost, 0),
      signalsSent: windows.length - 1,
      tookEffect: this.#tookEffect,
      windows,
      causes: ledger.causes(),
      ...(this.#stoppedAt === undefined ? {} : { stoppedMs: round(this.#stoppedAt - ledger.startedAt) }),
      ...(this.#note === undefined ? {} : { note: this.#note }),
    };
  }
}

async function sleepUnlessAborted(ms: number, abort: AbortSignal | undefined): Promise<void> {
  const { setTimeout: delay } = await import('node:timers/promises');
  try {
    await delay(ms, undefined, { signal: abort });
  } catch (error) {
    if (abort?.aborted) throw new RunEnded('aborted', 'aborted while the load warmed up');
    throw error;
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
