/**
 * A graceful-drain run as the run document carries it (`RunDocument.drain`):
 * the ledger of every request (outcome × phase, each loss with its cause),
 * the shutdown timings, the bounded timeline and the child's phase events,
 * and the plan they came from. The harness fills these types
 * (src/harness/load/, drivers/load-and-signal.ts); the judge and the views
 * read them. Pure data and pure functions: `repro report` re-judges a saved run.
 */

/** What became of one request, as the client saw it. */
export type Outcome = 'ok' | 'unavailable' | 'other-status' | 'refused' | 'reset' | 'truncated' | 'timeout';

export const OUTCOMES: readonly Outcome[] = ['ok', 'unavailable', 'other-status', 'refused', 'reset', 'truncated', 'timeout'];

/** When a request started, relative to the shutdown: before the signal, within --lag of it, after the lag until the exit, after the exit. */
export type Phase = 'before' | 'lag' | 'drain' | 'after-exit';
export const PHASES: readonly Phase[] = ['before', 'lag', 'drain', 'after-exit'];

/** What the load generator's clients do (see harness/load/generator.ts). */
export type ClientKind = 'fresh' | 'keepalive' | 'post' | 'long' | 'idle';
export const CLIENT_KINDS: readonly ClientKind[] = ['fresh', 'keepalive', 'post', 'long', 'idle'];

/**
 * Whether a request with this outcome, started in this phase, is lost: one the
 * server let in and did not answer completely (reset, truncated, timed out: in
 * any phase), or one refused while the server should still have been serving
 * (before the signal, or during the --lag window). Refusals after the lag and
 * after the exit are counted, not lost; a 503 is a complete answer.
 */
export function isLoss(outcome: Outcome, phase: Phase): boolean {
  if (outcome === 'reset' || outcome === 'truncated' || outcome === 'timeout') return true;
  if (outcome === 'refused') return phase === 'before' || phase === 'lag';
  return false;
}

/** The server process when a request's outcome was seen: still running, exited by itself, or SIGKILLed by the harness. */
export type ServerState = 'running' | 'exited' | 'killed';

/** Lost requests sharing outcome, phase, cause and server state. */
export interface LossCause {
  outcome: Outcome;
  phase: Phase;
  /** What the client saw (`ECONNRESET before any response byte`). */
  cause: string;
  server: ServerState;
  /**
   * @minimum 0
   * @integer
   */
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
  /**
   * @minimum 0
   * @integer
   */
  bytes: number;
}

/** How the server process ended. */
export interface ServerExit {
  /**
   * @integer
   */
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

/** The ledger of one run: every request the load generator sent, as aggregates (bounded whatever the run's length). */
export interface LedgerSummary {
  /**
   * Requests recorded (readiness polls not included).
   * @minimum 0
   * @integer
   */
  total: number;
  /**
   * @minimum 0
   * @integer
   */
  lost: number;
  /**
   * Requests that started before the signal and ended after it (the load was on when the signal came).
   * @minimum 0
   * @integer
   */
  inFlightAtSignal?: number;
  /**
   * outcome → phase → requests.
   * @minimum 0
   * @integer
   */
  counts: Record<Outcome, Record<Phase, number>>;
  /**
   * Requests per client kind, and how many of them were lost.
   * @minimum 0
   * @integer
   */
  byKind: Record<ClientKind, { total: number; lost: number }>;
  /** Lost requests grouped by cause, most first; at most 32 groups, the rest in `otherLost`. */
  causes: LossCause[];
  /**
   * @minimum 0
   * @integer
   */
  otherLost: number;
  /** The first lost requests (at most 20). */
  examples: LossExample[];
  /**
   * Idle keep-alive connections the clients held: how many, how many the running server closed,
   * how many went with the process (exit or kill), how many were still open at the end.
   * @minimum 0
   * @integer
   */
  idle: { held: number; closedByServer: number; closedAtExit: number; openAtEnd: number };
  /**
   * Responses to keep-alive requests that carried `Connection: close`, by phase (a draining server says so).
   * @minimum 0
   * @integer
   */
  closeAnswers: Record<Phase, number>;
  /**
   * Client connections still open when the harness SIGKILLed the server (0 when it exited by itself).
   * @minimum 0
   * @integer
   */
  connectionsOpenAtKill: number;
  timings: ShutdownTimings;
  exit?: ServerExit;
  /**
   * The routing lag the load kept sending through after the signal, ms.
   * @minimum 0
   * @integer
   */
  lagMs: number;
  /**
   * Signal → SIGKILL (the orchestrator's grace period), ms.
   * @minimum 0
   * @integer
   */
  graceMs: number;
}

export interface TimelineBucket {
  /**
   * Start of the bucket, ms since the load started.
   * @minimum 0
   */
  atMs: number;
  /**
   * Requests started in this bucket, by outcome (outcomes with none left out).
   * @minimum 0
   * @integer
   */
  counts: Partial<Record<Outcome, number>>;
  /**
   * Of those, the ones the ledger counts as lost.
   * @minimum 0
   * @integer
   */
  lost: number;
}

/** The moments a view marks on the timeline, ms since the load started; absent when it never happened. */
export interface TimelineMarks {
  signalMs?: number;
  lagEndMs?: number;
  readinessFalseMs?: number;
  listenerClosedMs?: number;
  lastByteMs?: number;
  exitMs?: number;
  killMs?: number;
  secondSignalMs?: number;
}

/** Requests by outcome over time, at most a few hundred buckets whatever the run's length. */
export interface TimelineData {
  /**
   * Width of each bucket, ms (doubles as the run grows).
   * @minimum 0
   */
  bucketMs: number;
  /**
   * @maxItems 1000
   */
  buckets: TimelineBucket[];
  marks: TimelineMarks;
}

/** What the load generator did. */
export interface GeneratorStats {
  /**
   * Requests started (readiness polls not counted).
   * @minimum 0
   * @integer
   */
  started: number;
  /**
   * @minimum 0
   * @integer
   */
  readinessPolls: number;
  /**
   * From the first request to the last outcome, ms.
   * @minimum 0
   */
  durationMs: number;
  /**
   * Highest number of client connections open at once.
   * @minimum 0
   * @integer
   */
  peakConnections: number;
}

/** A child event that is not part of the reload protocol (`draining`, `listener-closed`, `cleanup`…), with when the harness read it. */
export interface PhaseEvent {
  event: string;
  /** ms from the signal to the moment the harness read the line (negative: before the signal). */
  harnessMs: number;
  [field: string]: unknown;
}

/** The plan of a load-and-signal run: what the numbers in the ledger were measured under. */
export interface DrainPlan {
  /**
   * Clients keep opening connections this long after the signal (the routing lag), ms.
   * @minimum 0
   * @integer
   */
  lagMs: number;
  /**
   * Signal → SIGKILL when the server is still there (terminationGracePeriod), ms.
   * @minimum 0
   * @integer
   */
  graceMs: number;
  /**
   * Seed of the client mix and of the signal's moment.
   * @integer
   */
  seed: number;
  /**
   * Concurrent clients.
   * @minimum 0
   * @integer
   */
  concurrency: number;
  /**
   * Most requests the load may send.
   * @minimum 0
   * @integer
   */
  maxRequests: number;
  /**
   * Load before the signal, at least, ms; the signal comes up to `signalJitterMs` later.
   * @minimum 0
   * @integer
   */
  warmupMs: number;
  /**
   * @minimum 0
   * @integer
   */
  signalJitterMs: number;
  /** Where the load went: `127.0.0.1:PORT/path` (repro drain --url); absent for a scenario child (its port is in `port`). */
  url?: string;
  /**
   * A second signal this long after the first (the second Ctrl-C).
   * @minimum 0
   * @integer
   */
  secondSignal?: { signal: string; afterMs: number };
}

/** `RunDocument.drain`: a graceful-drain run's ledger, timeline and phase events. */
export interface DrainRecord {
  plan: DrainPlan;
  /**
   * The port the load went to; null when the server never said (or answered).
   * @integer
   */
  port: number | null;
  /** How the load-and-signal driver ended: `done` (the server exited or was killed after the signal), or why it could not get that far. */
  ended: { reason: 'done' | 'ready-timeout' | 'child-exited' | 'aborted'; detail: string };
  ledger: LedgerSummary;
  timeline: TimelineData;
  /**
   * The child's own phase events, in the order read (at most 200).
   * @maxItems 200
   */
  events: PhaseEvent[];
  generator: GeneratorStats;
}

/** What a drain run of a role must show, as data (`Expectation.drain`). */
export interface DrainExpectation {
  /** `none`: not one request lost (correct); `some`: at least one, each with its cause (broken). */
  losses: 'none' | 'some';
  /**
   * Fewest requests that make the run count.
   * @minimum 0
   * @integer
   */
  minRequests: number;
  /** How the server must end: `clean` (exit 0 by itself), `killed` (SIGKILL after the grace period), `any`. */
  exit: 'clean' | 'killed' | 'any';
  /**
   * When a second signal was sent: the process must be gone within this many ms of it.
   * @minimum 0
   */
  secondSignalWithinMs?: number;
}

export interface DrainCheck {
  /** `ended`, `requests`, `load`, `losses`, `causes`, `exit`, `second-signal`. */
  id: string;
  ok: boolean;
  text: string;
}

/** The run as the drain verdict needs it: the ledger and how the driver ended. */
export interface DrainRun {
  ended: { reason: string; detail: string };
  ledger: LedgerSummary;
}

const PHASE_WORDS: Record<Phase, string> = { before: 'before the signal', lag: 'lag window', drain: 'drain', 'after-exit': 'after exit' };

/** How a view names a phase. */
export function phaseWords(phase: Phase): string {
  return PHASE_WORDS[phase];
}

/** `killed after the grace period with 3 connections open`, or undefined when the server exited by itself. */
export function killedSentence(ledger: LedgerSummary): string | undefined {
  if (!ledger.exit?.killed) return undefined;
  const n = ledger.connectionsOpenAtKill;
  return `killed after the grace period with ${n} connection${n === 1 ? '' : 's'} open`;
}

/** One loss group in words: `12 × reset (lag window, server exited): ECONNRESET before any response byte`. */
export function lossSentence(cause: LossCause): string {
  return `${cause.count} × ${cause.outcome} (${PHASE_WORDS[cause.phase]}, server ${cause.server}): ${cause.cause}`;
}

/** How the server ended, in words. */
export function exitSentence(ledger: LedgerSummary): string {
  const exit = ledger.exit;
  if (!exit) return 'never signalled';
  if (exit.killed) {
    // The SIGKILL's moment (killMs), as the timings table shows it: one source of truth.
    const at = ledger.timings.killMs ?? ledger.timings.exitMs;
    return `${killedSentence(ledger) as string}${at === undefined ? '' : ` ${at} ms after the signal`}`;
  }
  const after = ledger.timings.exitMs === undefined ? '' : ` ${ledger.timings.exitMs} ms after the signal`;
  return exit.signal ? `died of ${exit.signal}${after}` : `exited with code ${exit.code}${after}`;
}

/** The shutdown signal was sent (the ledger counts what was in flight at it only then). */
export function signalSent(ledger: LedgerSummary): boolean {
  return ledger.inFlightAtSignal !== undefined;
}

/** Requests that started after the signal while the server could still take them (lag and drain phases), plus those in flight at it. */
export function requestsAroundSignal(ledger: LedgerSummary): number {
  let n = ledger.inFlightAtSignal ?? 0;
  for (const outcome of OUTCOMES) n += ledger.counts[outcome].lag + ledger.counts[outcome].drain;
  return n;
}

/**
 * The drain checks of a run, failed or not, in order. Pure. `load` fails when
 * no request was in flight at the signal or sent after it (the load had ended:
 * --requests reached), since then nothing could be lost.
 */
export function drainChecks(run: DrainRun, expect: DrainExpectation): DrainCheck[] {
  const { ledger } = run;
  const checks: DrainCheck[] = [];
  checks.push({ id: 'ended', ok: run.ended.reason === 'done', text: run.ended.reason === 'done' ? `the run went through the shutdown: ${run.ended.detail}` : `the run stopped early (${run.ended.reason}): ${run.ended.detail}` });
  checks.push({ id: 'requests', ok: ledger.total >= expect.minRequests, text: `${ledger.total} requests (at least ${expect.minRequests} needed)` });
  if (run.ended.reason === 'done' && ledger.inFlightAtSignal !== undefined) {
    const around = requestsAroundSignal(ledger);
    checks.push({
      id: 'load',
      ok: around > 0,
      text: around > 0 ? `${ledger.inFlightAtSignal} requests in flight at the signal, ${around - ledger.inFlightAtSignal} sent after it` : 'no request was in flight at the signal or sent after it: the load had ended (raise --requests)',
    });
  }
  // No request recorded: no check speaks about requests never sent (`requests` already fails).
  const sent = ledger.total > 0;
  if (sent && expect.losses === 'none') {
    checks.push({ id: 'losses', ok: ledger.lost === 0, text: ledger.lost === 0 ? `lost 0 of ${ledger.total} requests` : `lost ${ledger.lost} of ${ledger.total} requests: ${ledger.causes.slice(0, 3).map(lossSentence).join('; ')}` });
  } else if (sent) {
    checks.push({ id: 'losses', ok: ledger.lost >= 1, text: ledger.lost >= 1 ? `lost ${ledger.lost} of ${ledger.total} requests` : `lost none of ${ledger.total} requests: the shutdown bug did not show` });
    const labelled = ledger.causes.reduce((n, c) => n + (c.cause ? c.count : 0), 0);
    const ok = ledger.lost >= 1 && labelled + ledger.otherLost === ledger.lost && ledger.otherLost === 0;
    checks.push({ id: 'causes', ok, text: ok ? `every loss has its cause: ${ledger.causes.slice(0, 3).map(lossSentence).join('; ')}` : `${ledger.lost - labelled} of ${ledger.lost} losses without a cause group` });
  }
  if (expect.exit !== 'any') {
    const exit = ledger.exit;
    const ok = expect.exit === 'clean' ? exit !== undefined && !exit.killed && exit.code === 0 : exit?.killed === true;
    checks.push({ id: 'exit', ok, text: exitSentence(ledger) });
  }
  if (expect.secondSignalWithinMs !== undefined) {
    const ms = ledger.timings.secondSignalToExitMs;
    const ok = ms !== undefined && ms <= expect.secondSignalWithinMs;
    checks.push({ id: 'second-signal', ok, text: ms === undefined ? 'no second signal was sent before the exit' : `gone ${ms} ms after the second signal (at most ${expect.secondSignalWithinMs})` });
  }
  return checks;
}

/**
 * Whether a drain run that failed could not tell: it stopped before the
 * shutdown, had too few requests, or no load at the signal, and lost nothing
 * (a loss seen is a loss, whatever else went wrong).
 */
export function drainInconclusive(run: DrainRun, checks: readonly DrainCheck[]): boolean {
  if (run.ledger.lost > 0) return false;
  return checks.some((c) => !c.ok && (c.id === 'ended' || c.id === 'requests' || c.id === 'load'));
}
