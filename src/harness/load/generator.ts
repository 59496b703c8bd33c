/**
 * The load generator, inside the harness: N concurrent clients on loopback,
 * bounded in requests and time, that stop by themselves. Client kinds:
 *
 * - `fresh`: every request on a new connection (`Connection: close`);
 * - `keepalive`: GETs reusing one connection, a new one when the server closes it;
 * - `post`: non-idempotent POSTs on a kept-alive connection, never retried;
 * - `long`: slow streamed responses (`/stream`), so requests are in flight at the signal;
 * - `idle`: one request, then the connection is held idle, as a client pool does.
 *
 * Before the signal and for `lagMs` after it (the routing lag of a load
 * balancer) clients open new connections as they need them; after the lag
 * they only keep using connections already open, until the server closes
 * them. A readiness poller asks `/ready` on a new connection every
 * `readinessEveryMs` (not counted in the ledger) to time readiness going false
 * and the listener closing. Once the server is gone, a few one-shot requests
 * check that its port now refuses (counted, not lost).
 *
 * The clients are careful HTTP/1.1 clients (RFC 9110 §9.2.2): a GET that fails
 * before any response byte on a reused keep-alive connection (the server
 * closed it as the request was written) is sent once more on a new
 * connection, and judged by that retry; a POST never is, and its loss there
 * is named as the keep-alive close race.
 */
import { isIP } from 'node:net';
import { type Exchange, HttpConnection, type RequestSpec } from './http-exchange.js';
import type { ClientKind, GeneratorStats, ServerState } from '../../model/drain.js';
import type { Ledger } from './ledger.js';
import { type Random, seeded } from './seeded.js';

export interface LoadPlan {
  /** A loopback address (127.0.0.0/8 or ::1); anything else is refused. */
  host: string;
  port: number;
  /** Concurrent clients. */
  concurrency: number;
  /** At most this many requests (readiness polls not counted). */
  maxRequests: number;
  /** Clients start no request after this long, and the generator ends all connections then. */
  maxDurationMs: number;
  seed: number;
  /** Clients may open new connections until this long after the signal. */
  lagMs: number;
  /** Latency asked of `/work?ms=` per request, uniform in [min, max] ms. */
  workMs: readonly [number, number];
  /** Duration asked of `/stream?ms=` for long requests. */
  longMs: number;
  /** Pause between a client's requests, uniform in [0, thinkMs]. */
  thinkMs: number;
  requestTimeoutMs: number;
  /** Client kinds, cycled over the clients in this order. */
  kinds?: readonly ClientKind[];
  /** Poll the readiness path this often (0: no poller). */
  readinessEveryMs: number;
  /** One-shot requests sent once the server is gone. */
  afterExitProbes: number;
  /** Every request of the `fresh`, `keepalive` and `idle` clients uses this method (repro drain --method); absent: GET. */
  method?: 'GET' | 'POST';
  /** Where readiness is polled when not host:port (repro drain --ready-url). */
  readyTarget?: { host: string; port: number };
  /**
   * Paths of the target. Defaults are the graceful-drain children's:
   * `/work?ms=N` (any method), `/stream?ms=N&chunks=K`, `/ready`. A foreign
   * server (`repro drain --url`) gives one path for all requests.
   */
  paths?: { work?: (ms: number) => string; stream?: (ms: number) => string; ready?: string };
}

/** The default mix: per 10 clients, 3 fresh, 3 keep-alive, 2 POST, 1 long, 1 idle. */
export const DEFAULT_KINDS: readonly ClientKind[] = ['fresh', 'keepalive', 'post', 'long', 'idle', 'fresh', 'keepalive', 'post', 'fresh', 'keepalive'];

export type { GeneratorStats } from '../../model/drain.js';

/**
 * The keep-alive close race named, with its fix: a client cannot retry a non-idempotent request the
 * server may have seen, so the server must not close a connection a request may be on.
 */
export const RACE_WORDS =
  'the keep-alive close race (the server closed this idle keep-alive connection as the request was written; a non-idempotent request is never retried). Fix: close a kept-alive connection only after a response that says Connection: close, keep the clients\' idle timeout below the server\'s, or make the request safe to retry (an idempotency key)';

/**
 * A new connection reset unanswered after the signal while the server still ran: the kernel had
 * completed its handshake (it sat in the listen backlog, or a worker took it), and the server dropped
 * it, as gunicorn's sync workers do with their backlog when they close the listener at TERM.
 */
export const BACKLOG_WORDS =
  'a connection the kernel had accepted for the server (in its listen backlog, or taken by a worker) was dropped unanswered while the server still ran, as when a server closes its listener with connections still queued (gunicorn sync at TERM). Fix: answer or drain the accept queue before closing the listener, and stop routing first (a preStop sleep)';

/** Failed before any response byte on a connection that had already carried a response: the server closed it as the request went out. */
function closeRace(exchange: Exchange): boolean {
  return exchange.reused && exchange.bytes === 0 && exchange.outcome === 'reset';
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** True for a loopback address: the generator never sends load anywhere else. */
export function isLoopback(host: string): boolean {
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

export class LoadGenerator {
  readonly #clients: Promise<void>[] = [];
  readonly #open = new Set<HttpConnection>();
  readonly #idleHeld = new Set<HttpConnection>();
  readonly #rng: Random;
  readonly #kinds: readonly ClientKind[];
  #started = 0;
  #polls = 0;
  #peak = 0;
  #stopped = false;
  /** stop() ended the load: what repro itself cut is not the server's doing, and is not recorded. */
  #aborted = false;
  #serverGone = false;
  #t0 = 0;
  #lastEnd = 0;
  #poller: Promise<void> | undefined;
  #pollConn: HttpConnection | undefined;
  /** Resolvers of idle clients waiting for their connection to close (or the generator to stop). */
  readonly #idleWaiters = new Set<() => void>();

  constructor(
    readonly plan: LoadPlan,
    readonly ledger: Ledger,
    /** The server process's state right now (for each loss's label). */
    private readonly serverState: () => ServerState,
  ) {
    if (!isLoopback(plan.host)) throw new RangeError(`load goes to loopback only, not ${plan.host}`);
    this.#rng = seeded(plan.seed);
    this.#kinds = plan.kinds?.length ? plan.kinds : DEFAULT_KINDS;
  }

  /** Starts the clients and the readiness poller. */
  start(): void {
    this.#t0 = performance.now();
    for (let i = 0; i < this.plan.concurrency; i++) {
      const kind = this.#kinds[i % this.#kinds.length] as ClientKind;
      const rng = seeded(this.plan.seed * 1000 + i + 1);
      this.#clients.push(kind === 'idle' ? this.#idleClient() : this.#client(kind, rng));
    }
    if (this.plan.readinessEveryMs > 0) this.#poller = this.#pollReadiness();
  }

  /** A seeded number for the driver (the signal's moment), from the generator's own stream. */
  random(): Random {
    return this.#rng;
  }

  /** Client connections open now (readiness polls not counted). */
  openConnections(): number {
    let n = 0;
    for (const conn of this.#open) if (!conn.socket.destroyed) n += 1;
    return n;
  }

  /** The server process is gone: no request starts from now on except the after-exit probes. */
  serverGone(): void {
    this.#serverGone = true;
  }

  /**
   * Waits for the clients to end by themselves (at most until the deadline),
   * sends the after-exit probes, then closes whatever is still open.
   */
  async finish(): Promise<GeneratorStats> {
    const deadline = this.#t0 + this.plan.maxDurationMs;
    let timer: NodeJS.Timeout | undefined;
    const cap = new Promise<void>((r) => {
      timer = setTimeout(r, Math.max(0, deadline - performance.now()));
    });
    await Promise.race([Promise.all(this.#clients.filter((_, i) => this.#kinds[i % this.#kinds.length] !== 'idle')), cap]);
    this.#stopped = true;
    this.#wakeIdle();
    this.ledger.idle.openAtEnd = [...this.#idleHeld].filter((c) => c.reusable).length;
    if (this.#serverGone) {
      for (let i = 0; i < this.plan.afterExitProbes; i++) await this.#one('fresh', this.#spec('fresh', this.#rng), undefined);
    }
    for (const conn of this.#open) conn.destroy();
    this.#pollConn?.destroy();
    await Promise.race([Promise.all(this.#clients), cap]);
    clearTimeout(timer);
    await this.#poller;
    return { started: this.#started, readinessPolls: this.#polls, durationMs: Math.round(this.#lastEnd - this.#t0), peakConnections: this.#peak };
  }

  /**
   * Starts no new request from now on, lets those in flight end (each by its
   * own answer or timeout, so a loss still counts), then finishes as
   * `finish()` does (repro watch --url: the load ends after the last reload,
   * before the final sample).
   */
  async finishNow(): Promise<GeneratorStats> {
    this.#stopped = true;
    this.#wakeIdle();
    return this.finish();
  }

  /** Ends everything now (abort): no new request, every connection destroyed. */
  stop(): void {
    this.#stopped = true;
    this.#aborted = true;
    this.#wakeIdle();
    for (const conn of this.#open) conn.destroy();
  }

  #wakeIdle(): void {
    for (const resolve of this.#idleWaiters) resolve();
    this.#idleWaiters.clear();
  }

  #mayStart(): boolean {
    return !this.#stopped && this.#started < this.plan.maxRequests && performance.now() - this.#t0 < this.plan.maxDurationMs;
  }

  #mayConnect(): boolean {
    const signalAt = this.ledger.signalAt;
    return signalAt === undefined || performance.now() < signalAt + this.plan.lagMs;
  }

  #connect(): HttpConnection {
    const conn = new HttpConnection(
      this.plan.host,
      this.plan.port,
      (c) => {
        if (!this.#idleHeld.has(c)) return;
        if (this.serverState() === 'running') this.ledger.idle.closedByServer += 1;
        else this.ledger.idle.closedAtExit += 1;
      },
      (c) => this.#open.delete(c),
      () => this.serverState() !== 'running',
    );
    this.#open.add(conn);
    if (this.#open.size > this.#peak) this.#peak = this.#open.size;
    return conn;
  }

  #spec(kind: ClientKind, rng: Random): RequestSpec {
    const paths = this.plan.paths;
    const [min, max] = this.plan.workMs;
    const ms = kind === 'idle' ? 0 : rng.int(min, max);
    const timeoutMs = this.plan.requestTimeoutMs;
    if (kind === 'long') return { method: 'GET', path: paths?.stream?.(this.plan.longMs) ?? `/stream?ms=${this.plan.longMs}&chunks=8`, close: false, timeoutMs };
    const path = paths?.work?.(ms) ?? `/work?ms=${ms}`;
    if (kind === 'post' || this.plan.method === 'POST') return { method: 'POST', path, body: `order=${this.#started}`, close: kind === 'fresh', timeoutMs };
    return { method: 'GET', path, close: kind === 'fresh', timeoutMs };
  }

  /**
   * One request on `conn` (or a new connection), recorded in the ledger; a GET lost to the keep-alive
   * close race is retried once on a new connection (even after the lag: a client's retry goes wherever
   * the load balancer sends it, so a refusal then is like any refusal after the lag).
   */
  async #one(kind: ClientKind, spec: RequestSpec, conn: HttpConnection | undefined): Promise<{ conn: HttpConnection; exchange: Exchange }> {
    let c = conn ?? this.#connect();
    this.#started += 1;
    let startedAt = performance.now();
    let exchange = await c.request(spec);
    let retry = false;
    if (closeRace(exchange) && spec.method === 'GET' && !this.#aborted) {
      retry = true;
      c = this.#connect();
      startedAt = performance.now();
      exchange = await c.request(spec);
    } else if (closeRace(exchange) && this.serverState() === 'running') {
      // A POST cut by the process's death is not the race: that is the exit's loss, labelled by the server's state.
      exchange = { ...exchange, cause: `${exchange.cause}: ${RACE_WORDS}` };
    } else if (this.#droppedUnanswered(exchange)) {
      exchange = { ...exchange, cause: `${exchange.cause}: ${BACKLOG_WORDS}` };
    }
    this.#lastEnd = Math.max(this.#lastEnd, exchange.endedAt);
    this.#noteRefusal(startedAt, exchange);
    if (!this.#aborted) this.ledger.record({ kind, method: spec.method, path: spec.path, startedAt, keepAlive: !spec.close, retry }, exchange, this.serverState());
    return { conn: c, exchange };
  }

  /** A load request sent after the signal and refused while the process ran: the listener was closed (also when readiness is asked elsewhere). */
  #noteRefusal(startedAt: number, exchange: Exchange): void {
    const { ledger } = this;
    if (exchange.outcome !== 'refused' || ledger.signalAt === undefined || startedAt < ledger.signalAt || ledger.listenerClosedAt !== undefined) return;
    if (this.serverState() !== 'running') return;
    ledger.listenerClosedAt = exchange.endedAt;
    ledger.listenerClosedFrom = 'refused-connect';
  }

  /** Reset before any byte on a new connection, after the signal, while the server still ran: let in by the kernel, then dropped. */
  #droppedUnanswered(exchange: Exchange): boolean {
    const signalAt = this.ledger.signalAt;
    return !exchange.reused && exchange.bytes === 0 && exchange.outcome === 'reset' && signalAt !== undefined && exchange.endedAt >= signalAt && this.serverState() === 'running';
  }

  async #client(kind: ClientKind, rng: Random): Promise<void> {
    let conn: HttpConnection | undefined;
    while (this.#mayStart()) {
      const reuse = kind !== 'fresh' && conn?.reusable === true;
      if (!reuse) {
        if (this.#serverGone || !this.#mayConnect()) break;
        conn = undefined;
      }
      ({ conn } = await this.#one(kind, this.#spec(kind, rng), conn));
      if (kind === 'fresh') conn = undefined;
      const think = rng.int(0, this.plan.thinkMs);
      if (think > 0) await sleep(think);
    }
    conn?.close();
  }

  /** One request, then the connection is held idle until the server closes it or the generator ends. */
  async #idleClient(): Promise<void> {
    if (!this.#mayStart()) return;
    const { conn, exchange } = await this.#one('idle', this.#spec('idle', this.#rng), undefined);
    if (exchange.outcome !== 'ok' || !conn.reusable) return;
    this.#idleHeld.add(conn);
    this.ledger.idle.held += 1;
    if (this.#stopped || conn.socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.#idleWaiters.delete(done);
        conn.socket.off('close', done);
        resolve();
      };
      this.#idleWaiters.add(done);
      conn.socket.once('close', done);
    });
  }

  async #pollReadiness(): Promise<void> {
    const ready = this.plan.paths?.ready ?? '/ready';
    while (!this.#stopped && !this.#serverGone) {
      const conn = new HttpConnection(this.plan.readyTarget?.host ?? this.plan.host, this.plan.readyTarget?.port ?? this.plan.port);
      this.#pollConn = conn;
      const sentAt = performance.now();
      const exchange = await conn.request({ method: 'GET', path: ready, close: true, timeoutMs: this.plan.requestTimeoutMs });
      conn.destroy();
      this.#polls += 1;
      const { ledger } = this;
      // A poll that fails after the signal says "not ready", even one sent just before it (parked, then reset).
      if (ledger.signalAt !== undefined && exchange.endedAt >= ledger.signalAt) {
        if (ledger.readinessFalseAt === undefined && exchange.outcome !== 'ok') ledger.readinessFalseAt = exchange.endedAt;
        // A refusal tells of the load's listener only when readiness is asked there (not at a --ready-url elsewhere).
        if (exchange.outcome === 'refused' && !this.plan.readyTarget && sentAt >= ledger.signalAt && ledger.listenerClosedAt === undefined) {
          ledger.listenerClosedAt = exchange.endedAt;
          ledger.listenerClosedFrom = 'refused-connect';
        }
      }
      await sleep(this.plan.readinessEveryMs);
    }
  }
}
