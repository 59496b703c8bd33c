/**
 * A graceful-drain run as the run document carries it (`RunDocument.drain`):
 * the ledger of every request (outcome × phase, each loss with its cause),
 * the shutdown timings, the bounded timeline and the child's phase events,
 * and the plan they came from. The harness fills these types
 * (src/harness/load/, drivers/load-and-signal.ts); the judge and the views
 * read them. Pure data and pure functions: `repro report` re-judges a saved run.
 */

/**
 * What became of one request, as the client saw it (after its one retry, when
 * it had one). `unavailable` is any 5xx answer (its status is kept in the
 * cause, `HTTP 502`); `other-status` any other non-2xx (1xx, 3xx, 4xx).
 */
export type Outcome = 'ok' | 'unavailable' | 'other-status' | 'refused' | 'reset' | 'truncated' | 'timeout';

export const OUTCOMES: readonly Outcome[] = ['ok', 'unavailable', 'other-status', 'refused', 'reset', 'truncated', 'timeout'];

/** When a request started, relative to the shutdown: before the signal, within --lag of it, after the lag until the exit, after the exit. */
export type Phase = 'before' | 'lag' | 'drain' | 'after-exit';
export const PHASES: readonly Phase[] = ['before', 'lag', 'drain', 'after-exit'];

/** What the load generator's clients do (see harness/load/generator.ts). */
export type ClientKind = 'fresh' | 'keepalive' | 'post' | 'long' | 'idle';
export const CLIENT_KINDS: readonly ClientKind[] = ['fresh', 'keepalive', 'post', 'long', 'idle'];

/**
 * Whether a request with this outcome, started in this phase, is lost, as a
 * careful HTTP/1.1 client sees it (README, "What counts as lost"): a 5xx
 * answer, a reset or a body cut short of its framing (Content-Length, chunked,
 * or a close-delimited body that ended with the server process), no complete
 * answer in time; or a refusal while the server should still have been
 * serving (before the signal, or during the --lag window). An idempotent
 * request that failed before any response byte on a reused keep-alive
 * connection was retried once (RFC 9110 §9.2.2) and is judged by its retry.
 * Refusals after the lag, and anything sent after the server was gone, are
 * counted, not lost: no server of this run could have taken them.
 * `unanswered`: a reset before any response byte on a connection opened for
 * this request (a retry's, after the lag). It is judged as a refusal: the
 * kernel let it into the backlog of a listener the server no longer accepted
 * from and reset it at the close (nginx QUIT with keep-alive on); after the
 * lag no load balancer would have sent it here.
 */
export function isLoss(outcome: Outcome, phase: Phase, unanswered = false): boolean {
  if (phase === 'after-exit') return false;
  if (outcome === 'reset' && unanswered) return phase === 'before' || phase === 'lag';
  if (outcome === 'reset' || outcome === 'truncated' || outcome === 'timeout' || outcome === 'unavailable') return true;
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

/** Requests retried once after the keep-alive close race. */
export interface RetriedRequests {
  /**
   * First attempts that failed before any response byte on a reused connection and were retried.
   * @minimum 0
   * @integer
   */
  total: number;
  /**
   * What the retries became, by outcome (outcomes with none left out).
   * @minimum 0
   * @integer
   */
  outcomes: Partial<Record<Outcome, number>>;
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
  /** The process that held the listener was not repro's child (a wrapper's child, a daemon): it ended, and how is not readable. */
  statusUnread?: boolean;
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
  /**
   * Idempotent requests that failed before any response byte on a reused keep-alive connection (the
   * server closed it as the request was written) and were sent once more on a new connection, as
   * careful clients do (RFC 9110 §9.2.2): how many, and what their retries became (counted in `counts`
   * by the retry's start). Absent in documents written before retries.
   */
  retried?: RetriedRequests;
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
  /** The load's method (repro drain --method): GET (idempotent, retried once after the keep-alive race) or POST (never retried). Absent: the scenario's client mix. */
  method?: 'GET' | 'POST';
  /** Where readiness was polled when not the load URL (repro drain --ready-url). */
  readyUrl?: string;
  /** Where the signal went (repro drain --signal-to): the program, its process group, or every process of its tree that takes it. */
  signalTo?: 'program' | 'group' | 'tree';
}

/** Which process the shutdown was about: the one that owned the listening socket, and where the signal went. */
export interface DrainServer {
  /**
   * The process that owned the listening socket when the load started (the topmost of its tree that holds it); its fds, RSS and exit are the server's.
   * @integer
   */
  listenerPid: number;
  /** Its short name (comm). */
  listenerComm: string;
  /**
   * Pids the shutdown signal was sent to.
   * @integer
   */
  signalledPids: number[];
  /** What the listener's owner did with the signal just before it was sent (/proc/PID/status). */
  disposition: 'caught' | 'ignored' | 'blocked' | 'default' | 'unknown';
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
  ended: { reason: DrainEnd; detail: string };
  ledger: LedgerSummary;
  timeline: TimelineData;
  /**
   * The child's own phase events, in the order read (at most 200).
   * @maxItems 200
   */
  events: PhaseEvent[];
  generator: GeneratorStats;
  /** The process that held the listening socket and where the signal went (repro drain); absent for a scenario child (the child is the server). */
  server?: DrainServer;
}

/**
 * How a load-and-signal run ended: `done` (the server exited or was killed after the signal),
 * `not-delivered` (the signal could not reach the process that holds the listener: a wrapper that does
 * not forward it, an ignored signal), or why it could not get that far.
 */
export type DrainEnd = 'done' | 'ready-timeout' | 'child-exited' | 'aborted' | 'not-delivered';

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
  /**
   * How the server must end: `clean` (exit 0 by itself), `self` (by itself, any code: not SIGKILLed after
   * the grace period), `killed` (SIGKILL after the grace period), `any`.
   */
  exit: 'clean' | 'self' | 'killed' | 'any';
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

const IN_PHASE: Record<Phase, string> = { before: 'before the signal', lag: 'in the lag window', drain: 'during the drain', 'after-exit': 'after the exit' };

/** A phase after a count or a verb: `12 in the lag window`, `started during the drain`. */
export function inPhase(phase: Phase): string {
  return IN_PHASE[phase];
}

/** How the server was when a lost request failed ("server exited" after "before the signal" read as one moment). */
const SERVER_WORDS: Record<ServerState, string> = { running: 'server still running', exited: 'server gone', killed: 'server SIGKILLed' };

/** One loss group in words: `12 × reset (started in the lag window, server gone): ECONNRESET before any response byte`. */
export function lossSentence(cause: LossCause): string {
  return `${cause.count} × ${cause.outcome} (started ${IN_PHASE[cause.phase]}, ${SERVER_WORDS[cause.server]}): ${cause.cause}`;
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
  if (exit.statusUnread) return `exited${after} (not repro's child: its exit status cannot be read)`;
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
  const unreached = run.ended.reason === 'done' ? unreachedShutdown(ledger) : undefined;
  if (unreached) checks.push({ id: 'signal', ok: false, text: unreached });
  // A run that stopped before the signal has no exit to judge (`ended` already fails).
  if (expect.exit !== 'any' && (ledger.exit !== undefined || run.ended.reason === 'done')) checks.push(exitCheck(ledger, expect.exit));
  if (expect.secondSignalWithinMs !== undefined) {
    const ms = ledger.timings.secondSignalToExitMs;
    const ok = ms !== undefined && ms <= expect.secondSignalWithinMs;
    checks.push({ id: 'second-signal', ok, text: ms === undefined ? 'no second signal was sent before the exit' : `gone ${ms} ms after the second signal (at most ${expect.secondSignalWithinMs})` });
  }
  return checks;
}

/** The exit check: how the server had to end, and how it did. */
function exitCheck(ledger: LedgerSummary, expected: Exclude<DrainExpectation['exit'], 'any'>): DrainCheck {
  const exit = ledger.exit;
  if (expected === 'killed') return { id: 'exit', ok: exit?.killed === true, text: exitSentence(ledger) };
  if (exit?.killed) {
    const needS = Math.ceil((ledger.graceMs + 1000) / 1000);
    return { id: 'exit', ok: false, text: `did not exit within the grace period (${ledger.graceMs} ms): ${exitSentence(ledger)}; an orchestrator kills it there too (Kubernetes at terminationGracePeriodSeconds), and whatever cleanup it had not done is lost: make it exit by itself, or raise the grace above its drain (terminationGracePeriodSeconds > ${needS})` };
  }
  const ok = expected === 'clean' ? exit !== undefined && exit.code === 0 : exit !== undefined;
  return { id: 'exit', ok, text: exitSentence(ledger) };
}

/**
 * Why a server SIGKILLed at the grace period never began a shutdown, or undefined when it did (or
 * exited by itself): it kept answering readiness and its listener was never seen closed before the
 * kill. Then the signal never reached its shutdown (ignored in a handler, a reload signal, a wrapper
 * that did not pass it on), and the run cannot judge a drain that never started.
 */
export function unreachedShutdown(ledger: LedgerSummary): string | undefined {
  const t = ledger.timings;
  if (!ledger.exit?.killed || t.killMs === undefined) return undefined;
  const before = (ms: number | undefined) => ms !== undefined && ms < (t.killMs as number);
  const listenerClosed = ledger.timings.listenerClosedFrom !== 'exit' && before(t.listenerClosedMs);
  const saidClose = ledger.closeAnswers.lag + ledger.closeAnswers.drain > 0;
  if (before(t.readinessFalseMs) || listenerClosed || saidClose) return undefined;
  return `the server showed no sign of shutting down until the SIGKILL ${t.killMs} ms after the signal (readiness kept answering, the listener stayed open, no response said Connection: close): the signal never reached a shutdown. It ignores the signal, reloads on it (HUP), or a wrapper did not pass it on; send the signal it shuts down on (--signal), start it with exec in the wrapper, or use --signal-to`;
}

/**
 * Whether a drain run that failed could not tell: the signal never reached
 * the server's shutdown; or it stopped before the shutdown, had too few
 * requests, or no load at the signal, and lost nothing (a loss seen is a loss,
 * whatever else went wrong).
 */
export function drainInconclusive(run: DrainRun, checks: readonly DrainCheck[]): boolean {
  // A signal that never reached the server's shutdown judged nothing, whatever the load saw.
  if (run.ended.reason === 'not-delivered' || checks.some((c) => !c.ok && c.id === 'signal')) return true;
  // A server that had to be killed failed, whatever else the run could not tell.
  if (run.ledger.lost > 0 || checks.some((c) => !c.ok && c.id === 'exit')) return false;
  return checks.some((c) => !c.ok && (c.id === 'ended' || c.id === 'requests' || c.id === 'load'));
}
