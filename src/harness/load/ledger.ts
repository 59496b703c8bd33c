/**
 * The ledger: every request the load generator sent, as an outcome × phase
 * count with the cause of each loss, plus the shutdown timings. Aggregates
 * only (a bounded list of loss causes, a few examples, the bounded timeline),
 * so 100 000 requests cost what 1 000 do.
 *
 * What is lost is `isLoss` (src/model/drain.ts): a 5xx, a reset, a cut body or
 * a timeout while the server was there, or a refusal before the signal or
 * during the --lag window. A GET retried after the keep-alive close race is
 * recorded once, as its retry (and counted in `retried`).
 */
import { CLIENT_KINDS, type ClientKind, isLoss, type LedgerSummary, type LossCause, type LossExample, type Phase, PHASES, type ServerExit, type ServerState, type ShutdownTimings } from '../../model/drain.js';
import { EntryTally } from '../../kinds/ledger/entries.js';
import { type Exchange, type Outcome, OUTCOMES } from './http-exchange.js';
import { Timeline, type TimelineData } from './timeline.js';

export { CLIENT_KINDS, PHASES, type ClientKind, type Phase, type ServerState } from '../../model/drain.js';

export { isLoss } from '../../model/drain.js';

/** Phase of a request that started at `at` (ms, any clock shared with the marks). */
export function phaseAt(at: number, marks: { signalAt?: number; lagMs: number; exitAt?: number }): Phase {
  if (marks.signalAt === undefined || at < marks.signalAt) return 'before';
  if (at < marks.signalAt + marks.lagMs) return 'lag';
  if (marks.exitAt !== undefined && at >= marks.exitAt) return 'after-exit';
  return 'drain';
}

export type { LedgerSummary, LossCause, LossExample, ServerExit, ShutdownTimings } from '../../model/drain.js';

const MAX_CAUSES = 32;
const MAX_EXAMPLES = 20;

const zeroCounts = (): Record<Outcome, Record<Phase, number>> =>
  Object.fromEntries(OUTCOMES.map((o) => [o, Object.fromEntries(PHASES.map((p) => [p, 0]))])) as Record<Outcome, Record<Phase, number>>;

/**
 * The ledger of one run. All times are performance.now() values of the harness;
 * the driver marks the signal, the exit and the kill as they happen. Its
 * totals, cause groups and examples are the one ledger's tally
 * (kinds/ledger/entries.ts): a request enters it when its outcome is known.
 */
export class Ledger {
  readonly timeline: Timeline;
  readonly #counts = zeroCounts();
  readonly #byKind = Object.fromEntries(CLIENT_KINDS.map((k) => [k, { total: 0, lost: 0 }])) as Record<ClientKind, { total: number; lost: number }>;
  readonly #tally = new EntryTally<LossCause, LossExample>(MAX_CAUSES, MAX_EXAMPLES);
  #inFlightAtSignal = 0;
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
  readonly #retried: { total: number; outcomes: Partial<Record<Outcome, number>> } = { total: 0, outcomes: {} };

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

  /** Records one request; `server` is the process's state when its outcome was seen; `retry`: this is the one retry of a request lost to the keep-alive close race. */
  record(request: { kind: ClientKind; method: string; path: string; startedAt: number; keepAlive?: boolean; retry?: boolean }, exchange: Exchange, server: ServerState): void {
    const phase = this.phaseAt(request.startedAt);
    if (request.retry) {
      this.#retried.total += 1;
      this.#retried.outcomes[exchange.outcome] = (this.#retried.outcomes[exchange.outcome] ?? 0) + 1;
    }
    if (request.keepAlive && exchange.serverClose && exchange.status !== undefined) this.#closeAnswers[phase] += 1;
    const lost = isLoss(exchange.outcome, phase, !exchange.reused && exchange.bytes === 0);
    if (this.signalAt !== undefined && request.startedAt < this.signalAt && exchange.endedAt >= this.signalAt) this.#inFlightAtSignal += 1;
    this.#counts[exchange.outcome][phase] += 1;
    this.#byKind[request.kind].total += 1;
    if (exchange.lastByteAt !== undefined && (this.#lastByteAt === undefined || exchange.lastByteAt > this.#lastByteAt)) this.#lastByteAt = exchange.lastByteAt;
    this.timeline.add(request.startedAt - this.startedAt, exchange.outcome, lost);
    if (!lost) {
      this.#tally.settle();
      return;
    }
    this.#byKind[request.kind].lost += 1;
    const cause = request.retry ? `retried after the keep-alive close race, then ${exchange.cause}` : exchange.cause;
    const from = this.signalAt ?? request.startedAt;
    this.#tally.lose(
      `${exchange.outcome}\0${phase}\0${cause}\0${server}`,
      () => ({ outcome: exchange.outcome, phase, cause, server, count: 1 }),
      () => ({
        kind: request.kind,
        method: request.method,
        path: request.path,
        phase,
        outcome: exchange.outcome,
        cause,
        ...(exchange.detail === undefined ? {} : { detail: exchange.detail }),
        server,
        startMs: round(request.startedAt - from),
        endMs: round(exchange.endedAt - from),
        bytes: exchange.bytes,
      }),
    );
  }

  get total(): number {
    return this.#tally.total;
  }

  get lost(): number {
    return this.#tally.lost;
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
      total: this.#tally.total,
      lost: this.#tally.lost,
      ...(this.signalAt === undefined ? {} : { inFlightAtSignal: this.#inFlightAtSignal }),
      counts: structuredClone(this.#counts),
      byKind: structuredClone(this.#byKind),
      causes: this.#tally.causes(),
      otherLost: this.#tally.otherLost,
      examples: this.#tally.examples(),
      idle: { ...this.idle },
      closeAnswers: { ...this.#closeAnswers },
      connectionsOpenAtKill: this.connectionsOpenAtKill,
      retried: { total: this.#retried.total, outcomes: { ...this.#retried.outcomes } },
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
