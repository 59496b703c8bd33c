/**
 * The ledger: every request the load generator sent, as an outcome × phase
 * count with the cause of each loss, plus the shutdown timings. Aggregates
 * only (a bounded list of loss causes, a few examples, the bounded timeline),
 * so 100 000 requests cost what 1 000 do.
 *
 * A loss is a request the server let in and did not answer completely (reset,
 * truncated, timed out: in any phase), or one refused while the server should
 * still have been serving (before the signal, or during the --lag window).
 * Refusals after the lag (listener closed on purpose) and after the exit are
 * counted, not lost; a 503 is a complete answer, so it is not lost either.
 */
import { type Exchange, type Outcome, OUTCOMES } from './http-exchange.js';
import { Timeline, type TimelineData } from './timeline.js';

/** When a request started, relative to the shutdown: before the signal, within --lag of it, after the lag until the exit, after the exit. */
export type Phase = 'before' | 'lag' | 'drain' | 'after-exit';
export const PHASES: readonly Phase[] = ['before', 'lag', 'drain', 'after-exit'];

/** What the load generator's clients do (see generator.ts). */
export type ClientKind = 'fresh' | 'keepalive' | 'post' | 'long' | 'idle';
export const CLIENT_KINDS: readonly ClientKind[] = ['fresh', 'keepalive', 'post', 'long', 'idle'];

/** The server process when a request's outcome was seen: still running, exited by itself, or SIGKILLed by the harness. */
export type ServerState = 'running' | 'exited' | 'killed';

/** Whether a request with this outcome, started in this phase, is lost. Pure; the rule of the module comment. */
export function isLoss(outcome: Outcome, phase: Phase): boolean {
  if (outcome === 'reset' || outcome === 'truncated' || outcome === 'timeout') return true;
  if (outcome === 'refused') return phase === 'before' || phase === 'lag';
  return false;
}

/** Phase of a request that started at `at` (ms, any clock shared with the marks). */
export function phaseAt(at: number, marks: { signalAt?: number; lagMs: number; exitAt?: number }): Phase {
  if (marks.signalAt === undefined || at < marks.signalAt) return 'before';
  if (at < marks.signalAt + marks.lagMs) return 'lag';
  if (marks.exitAt !== undefined && at >= marks.exitAt) return 'after-exit';
  return 'drain';
}

/** Lost requests sharing outcome, phase, cause and server state. */
export interface LossCause {
  outcome: Outcome;
  phase: Phase;
  /** What the client saw (`ECONNRESET before any response byte`). */
  cause: string;
  server: ServerState;
  count: number;
}

/** One lost request, kept as an example. */
export interface LossExample {
  kind: ClientKind;
  method: string;
  path: string;
  phase: Phase;
  outcome: Outcome;
  cause: string;
  /** The specifics (`1536 of 2048 body bytes`). */
  detail?: string;
  server: ServerState;
  /** ms from the signal (negative: before it) to the request's start and to its outcome. */
  startMs: number;
  endMs: number;
  bytes: number;
}

/** How the server process ended. */
export interface ServerExit {
  code: number | null;
  signal: string | null;
  /** SIGKILLed by the harness after the grace period. */
  killed: boolean;
}

/** Timings from the signal, in ms; absent when it never happened (or the run had no signal). */
export interface ShutdownTimings {
  /** First readiness poll that did not answer 200 (503, refused, reset). */
  readinessFalseMs?: number;
  /** The listener was seen closed: the child's `listener-closed` event, else the first refused connection after the signal. */
  listenerClosedMs?: number;
  /** How `listenerClosedMs` was known. */
  listenerClosedFrom?: 'child-event' | 'refused-connect' | 'exit';
  /** The last response byte any client received. */
  lastByteMs?: number;
  /** The process was gone. */
  exitMs?: number;
  /** SIGKILL sent (after the grace period). */
  killMs?: number;
  /** A second signal was sent at `secondSignalMs`; the process was gone `secondSignalToExitMs` later. */
  secondSignalMs?: number;
  secondSignalToExitMs?: number;
}

/** The ledger as the run document would carry it. */
export interface LedgerSummary {
  /** Requests recorded (readiness polls not included). */
  total: number;
  lost: number;
  /** outcome → phase → requests. */
  counts: Record<Outcome, Record<Phase, number>>;
  /** Requests per client kind, and how many of them were lost. */
  byKind: Record<ClientKind, { total: number; lost: number }>;
  /** Lost requests grouped by cause, most first; at most 32 groups, the rest in `otherLost`. */
  causes: LossCause[];
  otherLost: number;
  /** The first lost requests (at most 20). */
  examples: LossExample[];
  /**
   * Idle keep-alive connections the clients held: how many, how many the running server closed,
   * how many went with the process (exit or kill), how many were still open at the end.
   */
  idle: { held: number; closedByServer: number; closedAtExit: number; openAtEnd: number };
  /** Responses to keep-alive requests that carried `Connection: close`, by phase (a draining server says so). */
  closeAnswers: Record<Phase, number>;
  /** Client connections still open when the harness SIGKILLed the server (0 when it exited by itself). */
  connectionsOpenAtKill: number;
  timings: ShutdownTimings;
  exit?: ServerExit;
  lagMs: number;
  graceMs: number;
}

const MAX_CAUSES = 32;
const MAX_EXAMPLES = 20;

const zeroCounts = (): Record<Outcome, Record<Phase, number>> =>
  Object.fromEntries(OUTCOMES.map((o) => [o, Object.fromEntries(PHASES.map((p) => [p, 0]))])) as Record<Outcome, Record<Phase, number>>;

/**
 * The ledger of one run. All times are performance.now() values of the harness;
 * the driver marks the signal, the exit and the kill as they happen.
 */
export class Ledger {
  readonly timeline: Timeline;
  readonly #counts = zeroCounts();
  readonly #byKind = Object.fromEntries(CLIENT_KINDS.map((k) => [k, { total: 0, lost: 0 }])) as Record<ClientKind, { total: number; lost: number }>;
  readonly #causes = new Map<string, LossCause>();
  readonly #examples: LossExample[] = [];
  #otherLost = 0;
  #total = 0;
  #lost = 0;
  #lastByteAt: number | undefined;
  signalAt: number | undefined;
  exitAt: number | undefined;
  killAt: number | undefined;
  readinessFalseAt: number | undefined;
  listenerClosedAt: number | undefined;
  listenerClosedFrom: ShutdownTimings['listenerClosedFrom'];
  secondSignalAt: number | undefined;
  exit: ServerExit | undefined;
  connectionsOpenAtKill = 0;
  readonly idle = { held: 0, closedByServer: 0, closedAtExit: 0, openAtEnd: 0 };
  readonly #closeAnswers = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;

  constructor(
    /** performance.now() when the load started: the timeline's zero. */
    readonly startedAt: number,
    readonly lagMs: number,
    readonly graceMs: number,
    timeline?: Timeline,
  ) {
    this.timeline = timeline ?? new Timeline();
  }

  phaseAt(at: number): Phase {
    return phaseAt(at, { signalAt: this.signalAt, lagMs: this.lagMs, exitAt: this.exitAt });
  }

  /** Records one request; `server` is the process's state when its outcome was seen. */
  record(request: { kind: ClientKind; method: string; path: string; startedAt: number; keepAlive?: boolean }, exchange: Exchange, server: ServerState): void {
    const phase = this.phaseAt(request.startedAt);
    if (request.keepAlive && exchange.serverClose && exchange.status !== undefined) this.#closeAnswers[phase] += 1;
    const lost = isLoss(exchange.outcome, phase);
    this.#total += 1;
    this.#counts[exchange.outcome][phase] += 1;
    this.#byKind[request.kind].total += 1;
    if (exchange.lastByteAt !== undefined && (this.#lastByteAt === undefined || exchange.lastByteAt > this.#lastByteAt)) this.#lastByteAt = exchange.lastByteAt;
    this.timeline.add(request.startedAt - this.startedAt, exchange.outcome, lost);
    if (!lost) return;
    this.#lost += 1;
    this.#byKind[request.kind].lost += 1;
    const key = `${exchange.outcome}\0${phase}\0${exchange.cause}\0${server}`;
    const group = this.#causes.get(key);
    if (group) group.count += 1;
    else if (this.#causes.size < MAX_CAUSES) this.#causes.set(key, { outcome: exchange.outcome, phase, cause: exchange.cause, server, count: 1 });
    else this.#otherLost += 1;
    if (this.#examples.length < MAX_EXAMPLES) {
      const from = this.signalAt ?? request.startedAt;
      this.#examples.push({
        kind: request.kind,
        method: request.method,
        path: request.path,
        phase,
        outcome: exchange.outcome,
        cause: exchange.cause,
        ...(exchange.detail === undefined ? {} : { detail: exchange.detail }),
        server,
        startMs: round(request.startedAt - from),
        endMs: round(exchange.endedAt - from),
        bytes: exchange.bytes,
      });
    }
  }

  get total(): number {
    return this.#total;
  }

  get lost(): number {
    return this.#lost;
  }

  summary(): LedgerSummary {
    const since = (at: number | undefined) => (at === undefined || this.signalAt === undefined ? undefined : round(at - this.signalAt));
    const timings: ShutdownTimings = {};
    const put = (key: keyof ShutdownTimings, value: number | undefined) => {
      if (value !== undefined) (timings as Record<string, unknown>)[key] = value;
    };
    put('readinessFalseMs', since(this.readinessFalseAt));
    put('listenerClosedMs', since(this.listenerClosedAt));
    if (this.listenerClosedAt !== undefined && this.listenerClosedFrom) timings.listenerClosedFrom = this.listenerClosedFrom;
    put('lastByteMs', since(this.#lastByteAt));
    put('exitMs', since(this.exitAt));
    put('killMs', since(this.killAt));
    put('secondSignalMs', since(this.secondSignalAt));
    if (this.secondSignalAt !== undefined && this.exitAt !== undefined) timings.secondSignalToExitMs = round(this.exitAt - this.secondSignalAt);
    const marks = this.timeline.marks;
    const rel = (at: number | undefined) => (at === undefined ? undefined : at - this.startedAt);
    const mark = (key: keyof typeof marks, at: number | undefined) => {
      const v = rel(at);
      if (v !== undefined) marks[key] = v;
    };
    mark('signalMs', this.signalAt);
    mark('lagEndMs', this.signalAt === undefined ? undefined : this.signalAt + this.lagMs);
    mark('readinessFalseMs', this.readinessFalseAt);
    mark('listenerClosedMs', this.listenerClosedAt);
    mark('lastByteMs', this.#lastByteAt);
    mark('exitMs', this.exitAt);
    mark('killMs', this.killAt);
    mark('secondSignalMs', this.secondSignalAt);
    return {
      total: this.#total,
      lost: this.#lost,
      counts: structuredClone(this.#counts),
      byKind: structuredClone(this.#byKind),
      causes: [...this.#causes.values()].sort((a, b) => b.count - a.count).map((c) => ({ ...c })),
      otherLost: this.#otherLost,
      examples: this.#examples.map((e) => ({ ...e })),
      idle: { ...this.idle },
      closeAnswers: { ...this.#closeAnswers },
      connectionsOpenAtKill: this.connectionsOpenAtKill,
      timings,
      ...(this.exit ? { exit: { ...this.exit } } : {}),
      lagMs: this.lagMs,
      graceMs: this.graceMs,
    };
  }

  timelineData(): TimelineData {
    this.summary(); // fills the marks
    return this.timeline.toJSON();
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
