/**
 * What a load-and-signal run (graceful-drain, `repro drain`) says, in words
 * and small tables: the ledger (outcome × phase, losses marked), the causes,
 * the shutdown timings, the summary rows and a compact text timeline. Every
 * view (terminal, HTML, Markdown, JUnit) takes these, so they never disagree. Pure.
 */
import { exitSentence, inPhase, isLoss, killedSentence, type LedgerSummary, lossSentence, OUTCOMES, type Outcome, type Phase, PHASES, phaseWords, signalSent, type TimelineData, type TimelineMarks } from '../../model/drain.js';
import type { RunDocument } from '../../model/run-document.js';

type DrainDoc = RunDocument & { drain: NonNullable<RunDocument['drain']> };

/** The run carries a ledger. */
export function isDrainRun(run: RunDocument): run is DrainDoc {
  return run.drain !== undefined;
}

const OUTCOME_WORDS: Record<Outcome, string> = {
  ok: '2xx',
  unavailable: '5xx',
  'other-status': 'other status',
  refused: 'refused',
  reset: 'reset',
  truncated: 'truncated',
  timeout: 'timeout',
};

/**
 * Lost requests in one cell of the table, from the loss groups. A reset after
 * the lag may be lost or not (unanswered on a retry's new connection is not:
 * isLoss), so the groups say; where some fell into `otherLost`, the cell's rule does.
 */
function lostIn(ledger: LedgerSummary, o: Outcome, p: Phase): number {
  const grouped = ledger.causes.reduce((sum, c) => sum + (c.outcome === o && c.phase === p ? c.count : 0), 0);
  return ledger.otherLost > 0 && isLoss(o, p) ? ledger.counts[o][p] : grouped;
}

/** The ledger as a table: a header, then one row per outcome that happened; a lost cell is marked `✗` (`12✗`), a cell partly lost with its lost count (`3 (1✗)`). */
export function ledgerTable(ledger: LedgerSummary): { header: string[]; rows: string[][] } {
  const header = ['outcome', ...PHASES.map(phaseWords), 'total'];
  const rows = OUTCOMES.filter((o) => PHASES.some((p) => ledger.counts[o][p] > 0)).map((o) => {
    const cells = PHASES.map((p) => {
      const n = ledger.counts[o][p];
      const lost = n === 0 ? 0 : lostIn(ledger, o, p);
      return n === 0 ? '·' : lost >= n ? `${n}✗` : lost > 0 ? `${n} (${lost}✗)` : String(n);
    });
    const total = PHASES.reduce((sum, p) => sum + ledger.counts[o][p], 0);
    return [OUTCOME_WORDS[o], ...cells, String(total)];
  });
  return { header, rows };
}

/** The sentence under a ledger table. */
export const LEDGER_NOTE =
  '✗: lost, as a careful HTTP/1.1 client sees it: a 5xx, a reset, a body cut short (of its Content-Length or chunked end, or a close-delimited body that ended with the server process) or a timeout while the server was there; a refusal before the signal or during the lag. A GET that failed before any response byte on a reused keep-alive connection was retried once on a new connection (RFC 9110 §9.2.2) and counts as its retry. Refusals after the lag, resets before any byte of a new connection after the lag (a retry let into a closing listener\'s backlog) and anything sent after the exit are counted, not lost.';

/** One line per loss group, most first; the rest counted. */
export function causeLines(ledger: LedgerSummary, most = 6): string[] {
  const lines = ledger.causes.slice(0, most).map(lossSentence);
  const rest = ledger.causes.slice(most).reduce((n, c) => n + c.count, 0) + ledger.otherLost;
  if (rest > 0) lines.push(`${rest} more in other groups`);
  return lines;
}

const ms = (v: number | undefined) => (v === undefined ? '—' : `${v} ms`);

/** A moment of the shutdown: what, when (ms after the signal, negative before it), and its words. */
interface Moment {
  label: string;
  ms: number;
  value: string;
}

/** When the process was gone: its exit, else the SIGKILL (ms after the signal). */
function goneMs(ledger: LedgerSummary): number | undefined {
  return ledger.timings.exitMs ?? ledger.timings.killMs;
}

/** Readiness false as seen while the process was still there; undefined when it was only seen after the exit (a dead server's refusal). */
function readinessBeforeExit(ledger: LedgerSummary): number | undefined {
  const at = ledger.timings.readinessFalseMs;
  const gone = goneMs(ledger);
  return at === undefined || (gone !== undefined && at > gone) ? undefined : at;
}

/** `4.4 ms`, or `1.4 ms before the signal` for a moment before it. */
const fromSignal = (v: number) => (v < 0 ? `${Math.abs(v)} ms before the signal` : `${v} ms`);

/** Why readiness false has no time: never seen false, or seen only after the exit. */
function readinessMissing(ledger: LedgerSummary): string {
  return ledger.timings.readinessFalseMs === undefined ? 'readiness never seen false' : 'readiness not seen false before the exit';
}

/** The shutdown's moments in time order (ties in the order readiness, listener, last byte, second signal, exit). */
function moments(ledger: LedgerSummary): Moment[] {
  const t = ledger.timings;
  const closedFrom = { 'child-event': "the server's own event", 'refused-connect': 'the first refused connection', exit: 'the exit' } as const;
  const out: Moment[] = [];
  const readiness = readinessBeforeExit(ledger);
  if (readiness !== undefined) out.push({ label: 'readiness false', ms: readiness, value: ms(readiness) });
  if (t.listenerClosedMs !== undefined) out.push({ label: 'listener closed', ms: t.listenerClosedMs, value: `${ms(t.listenerClosedMs)}${t.listenerClosedFrom ? ` (from ${closedFrom[t.listenerClosedFrom]})` : ''}` });
  if (t.lastByteMs !== undefined) out.push({ label: 'last byte sent', ms: t.lastByteMs, value: fromSignal(t.lastByteMs) });
  if (t.secondSignalMs !== undefined) out.push({ label: 'second signal', ms: t.secondSignalMs, value: `${ms(t.secondSignalMs)}; gone ${ms(t.secondSignalToExitMs)} after it` });
  if (ledger.exit?.killed && t.killMs !== undefined) out.push({ label: 'SIGKILL', ms: t.killMs, value: `${ms(t.killMs)} (${killedSentence(ledger) as string})` });
  else if (ledger.exit && t.exitMs !== undefined) out.push({ label: 'exit', ms: t.exitMs, value: `${ms(t.exitMs)} (${ledger.exit.signal ? `died of ${ledger.exit.signal}` : `code ${ledger.exit.code}`})` });
  return out.sort((a, b) => a.ms - b.ms);
}

/**
 * The shutdown in time order, each moment in ms after the signal (a last byte
 * before the signal says so); readiness false only when seen before the exit,
 * else a row saying it was not. One row saying so when no signal was sent.
 */
export function timingRows(ledger: LedgerSummary): [string, string][] {
  if (!signalSent(ledger)) return [['signal', 'not sent (the run stopped before it)']];
  const rows: [string, string][] = moments(ledger).map((m) => [m.ms < 0 ? m.label : `signal → ${m.label}`, m.value]);
  if (readinessBeforeExit(ledger) === undefined) rows.push(['signal → readiness false', `— (${readinessMissing(ledger)})`]);
  if (ledger.timings.lastByteMs === undefined) rows.push(['signal → last byte sent', '—']);
  if (!ledger.exit) rows.push(['signal → exit', '—']);
  return rows;
}

/**
 * `signal → readiness false 0.5 ms → listener closed 401 ms → last byte 970 ms → exit 973 ms (code 0)`:
 * the timings in one line, in time order (a last byte before the signal comes before it);
 * undefined when no signal was sent.
 */
export function timingLine(ledger: LedgerSummary): string | undefined {
  if (!signalSent(ledger)) return undefined;
  const words = (m: Moment) => {
    if (m.label === 'SIGKILL') return `SIGKILL ${ms(m.ms)}`;
    if (m.label === 'exit') return `exit ${ms(m.ms)} (${ledger.exit?.signal ?? `code ${ledger.exit?.code}`})`;
    if (m.label === 'second signal') return `second signal ${ms(m.ms)}`;
    return `${m.label === 'last byte sent' ? 'last byte' : m.label} ${fromSignal(m.ms)}`;
  };
  const all = moments(ledger);
  const parts = [...all.filter((m) => m.ms < 0).map(words), 'signal', ...all.filter((m) => m.ms >= 0).map(words)];
  const missing = ledger.timings.readinessFalseMs !== undefined && readinessBeforeExit(ledger) === undefined ? `; ${readinessMissing(ledger)}` : '';
  return `${parts.join(' → ')}${missing}`;
}

/** `lost 46 of 1363 requests` (+ how many were in flight at the signal). */
export function lostSentence(ledger: LedgerSummary): string {
  if (ledger.total === 0) return 'none sent';
  const inFlight = ledger.inFlightAtSignal === undefined ? '' : `; ${ledger.inFlightAtSignal} in flight at the signal`;
  return `lost ${ledger.lost} of ${ledger.total} requests${inFlight}`;
}

function idleText(ledger: LedgerSummary): string {
  const i = ledger.idle;
  if (i.held === 0) return 'none held';
  return `${i.held} held: ${i.closedByServer} closed by the running server, ${i.closedAtExit} went with the process, ${i.openAtEnd} open at the end`;
}

/** `12 (the server closed their keep-alive connection as they were written): 11 answered, 1 refused`, or undefined when none were. */
function retriedText(ledger: LedgerSummary): string | undefined {
  const r = ledger.retried;
  if (!r || r.total === 0) return undefined;
  const parts = OUTCOMES.filter((o) => (r.outcomes[o] ?? 0) > 0).map((o) => `${r.outcomes[o]} ${OUTCOME_WORDS[o]}`);
  return `${r.total} GET${r.total === 1 ? '' : 's'} failed before any response byte on a reused keep-alive connection (the keep-alive close race) and ${r.total === 1 ? 'was' : 'were'} sent once more on a new connection, as careful clients do (RFC 9110 §9.2.2); not lost unless the retry was: ${parts.join(', ')}`;
}

/** Kubernetes updates its endpoints in about this long after a pod starts terminating (DESIGN facts): a listener that closes sooner refuses what the load balancer still sends. */
const ENDPOINT_LAG_MS = [1000, 5000] as const;

/**
 * What the run means behind a load balancer: how long after the signal new connections were still
 * taken, and how long the shutdown took (the grace an orchestrator must give). Undefined parts are left out.
 */
export function routingRows(ledger: LedgerSummary, signal: string): [string, string][] {
  const t = ledger.timings;
  const rows: [string, string][] = [];
  if (!signalSent(ledger)) return rows;
  const closed = t.listenerClosedMs;
  if (closed !== undefined && !(ledger.exit?.killed && t.listenerClosedFrom === 'exit')) {
    const [low, high] = ENDPOINT_LAG_MS;
    const advice =
      closed < low
        ? `behind Kubernetes, whose endpoints update in about 1–5 s, add a preStop sleep (or keep accepting) of ${high / 1000} s, or new connections are refused while the load balancer still sends them`
        : closed < high
          ? `covers part of the 1–5 s Kubernetes takes to update its endpoints: a preStop sleep of ${high / 1000} s covers all of it`
          : 'covers the 1–5 s Kubernetes takes to update its endpoints';
    rows.push(['routing lag', `new connections refused ${closed} ms after ${signal}: ${advice}. Requests reset on connections the server had taken (kept alive, or accepted in the lag) are lost at any lag`]);
  }
  // A server that died of the signal did not drain: the server row says so, and grace-period advice would be about nothing.
  const gone = ledger.exit?.killed || ledger.exit?.signal ? undefined : t.exitMs;
  if (gone !== undefined) rows.push(['drain took', `${gone} ms from ${signal} to the exit: set terminationGracePeriodSeconds above ${Math.max(1, Math.ceil(gone / 1000))} s, plus any preStop sleep`]);
  else if (ledger.exit?.killed) rows.push(['drain took', `longer than the grace period (${ledger.graceMs} ms): SIGKILLed there`]);
  return rows;
}

/** The process the shutdown was about, when it was not simply the started program. */
function serverProcessText(run: DrainDoc): string | undefined {
  const s = run.drain.server;
  // Shown when it tells something: the signal went elsewhere than the listener's holder (a wrapper, a group).
  if (!s || (s.signalledPids.length === 1 && s.signalledPids[0] === s.listenerPid)) return undefined;
  const went = run.drain.ended.reason === 'not-delivered' ? 'would have gone' : 'went';
  return `pid ${s.listenerPid} (${s.listenerComm}) held the listening socket; ${run.signal} ${went} to pid ${s.signalledPids.join(', ')}; its fds, RSS and exit are the server's`;
}

function closeAnswersText(ledger: LedgerSummary): string {
  const parts = PHASES.filter((p) => ledger.closeAnswers[p] > 0).map((p) => `${ledger.closeAnswers[p]} ${inPhase(p)}`);
  return parts.length ? parts.join(', ') : 'none';
}

function planText(run: DrainDoc): string {
  const p = run.drain.plan;
  const second = p.secondSignal ? `, second ${p.secondSignal.signal} after ${p.secondSignal.afterMs} ms` : '';
  const window = `${p.warmupMs}–${p.warmupMs + p.signalJitterMs} ms of load`;
  const when = signalSent(run.drain.ledger) ? `${run.signal} after ${window} (seed ${p.seed})` : `${run.signal} not sent: the run stopped before it (planned after ${window}, seed ${p.seed})`;
  return `${when}, lag ${p.lagMs} ms, grace ${p.graceMs} ms, ${p.concurrency} clients, at most ${p.maxRequests} requests${second}`;
}

/** The summary rows of a drain run: label → value. */
export function drainRunRows(run: DrainDoc): [string, string][] {
  const { drain } = run;
  const l = drain.ledger;
  const target = drain.plan.url ?? (drain.port === null ? '— (the server never said its port)' : `127.0.0.1:${drain.port}`);
  const m = run.measured;
  return [
    ['plan', planText(run)],
    ['target', target],
    ['requests', lostSentence(l)],
    ...(timingLine(l) === undefined ? [] : [['timings', timingLine(l) as string] as [string, string]]),
    ['server', l.exit ? exitSentence(l) : `— (${drain.ended.detail})`],
    ...(serverProcessText(run) === undefined ? [] : [['listener', serverProcessText(run) as string] as [string, string]]),
    ...routingRows(l, run.signal),
    ...(retriedText(l) === undefined ? [] : [['retried', retriedText(l) as string] as [string, string]]),
    ['idle keep-alive', idleText(l)],
    ['close answers', `Connection: close on keep-alive answers: ${closeAnswersText(l)}`],
    ['baseline fds', run.samples.length ? `${m.baselineFds}${run.ulimit !== null ? ` of limit ${run.ulimit}` : ''}` : '— (not sampled)'],
    ['server RSS', m.rssKb.start === null ? '— (not read)' : `${m.rssKb.start} KiB at the baseline`],
    ['load', `${drain.generator.started} requests, ${drain.generator.readinessPolls} readiness polls, peak ${drain.generator.peakConnections} connections, ${drain.generator.durationMs} ms`],
  ];
}

const sumOutcomes = (l: LedgerSummary, phases: readonly Phase[], outcomes: readonly Outcome[] = OUTCOMES) => outcomes.reduce((n, o) => n + phases.reduce((m, p) => m + l.counts[o][p], 0), 0);

/** The side-by-side rows of a compare of drain runs. */
export function drainCompareRows(): [string, (r: RunDocument) => string][] {
  const of = (f: (r: DrainDoc) => string) => (r: RunDocument) => (isDrainRun(r) ? f(r) : '—');
  return [
    ['runtime', (r) => r.runtime],
    ['requests', of((r) => String(r.drain.ledger.total))],
    ['lost', of((r) => String(r.drain.ledger.lost))],
    ['first cause', of((r) => (r.drain.ledger.causes[0] ? `${r.drain.ledger.causes[0].outcome}, ${phaseWords(r.drain.ledger.causes[0].phase)}` : 'none'))],
    ['answered in lag', of((r) => String(sumOutcomes(r.drain.ledger, ['lag'], ['ok', 'other-status'])))],
    ['refused in lag', of((r) => String(r.drain.ledger.counts.refused.lag))],
    ['readiness false', of((r) => ms(r.drain.ledger.timings.readinessFalseMs))],
    ['listener closed', of((r) => ms(r.drain.ledger.timings.listenerClosedMs))],
    ['last byte', of((r) => ms(r.drain.ledger.timings.lastByteMs))],
    ['exit', of((r) => (r.drain.ledger.exit?.killed ? `SIGKILL ${ms(r.drain.ledger.timings.killMs)}` : r.drain.ledger.exit ? `${r.drain.ledger.exit.signal ?? `code ${r.drain.ledger.exit.code}`} @ ${ms(r.drain.ledger.timings.exitMs)}` : '—'))],
    ['open at SIGKILL', of((r) => (r.drain.ledger.exit?.killed ? String(r.drain.ledger.connectionsOpenAtKill) : '—'))],
    ['idle closed by server', of((r) => `${r.drain.ledger.idle.closedByServer}/${r.drain.ledger.idle.held}`)],
    ['verdict', (r) => (r.verdict.pass ? 'as expected' : 'NOT as expected')],
  ];
}

const BARS = ' ▁▂▃▄▅▆▇█';

/** Mark letters in legend order; where marks share a column the later in the legend wins. */
const MARKS: [keyof TimelineMarks, string, string][] = [
  ['signalMs', 'S', 'signal'],
  ['readinessFalseMs', 'R', 'readiness false'],
  ['lagEndMs', 'L', 'lag over'],
  ['listenerClosedMs', 'C', 'listener closed'],
  ['secondSignalMs', '2', 'second signal'],
  ['lastByteMs', 'B', 'last byte'],
  ['exitMs', 'X', 'exit'],
  ['killMs', 'K', 'SIGKILL'],
];

/**
 * The timeline in three lines of at most `width` columns: requests answered
 * (by when they started, a bar per column), requests lost, and the marks
 * (S signal, R readiness false, L lag over, C listener closed, B last byte, X exit, K SIGKILL).
 */
export function textTimeline(timeline: TimelineData, width = 60): string[] {
  const buckets = timeline.buckets;
  if (buckets.length === 0) return ['(no request was recorded)'];
  // Whole buckets per column, so every column spans the same time.
  const per = Math.ceil(buckets.length / width);
  const columns = Math.ceil(buckets.length / per);
  const answered: number[] = [];
  const lost: number[] = [];
  for (let c = 0; c < columns; c++) {
    let a = 0;
    let l = 0;
    for (let i = c * per; i < (c + 1) * per; i++) {
      const b = buckets[i];
      if (!b) continue;
      a += (b.counts.ok ?? 0) + (b.counts['other-status'] ?? 0);
      l += b.lost;
    }
    answered.push(a);
    lost.push(l);
  }
  const bar = (values: number[]) => {
    const top = Math.max(1, ...values);
    return values.map((v) => (v === 0 ? ' ' : (BARS[Math.max(1, Math.round((v / top) * 8))] as string))).join('');
  };
  const columnMs = timeline.bucketMs * per;
  const marks = Array.from({ length: columns }, () => '·');
  const seen: string[] = [];
  const goneAt = timeline.marks.exitMs ?? timeline.marks.killMs;
  for (const [key, letter, words] of MARKS) {
    const at = timeline.marks[key];
    if (at === undefined) continue;
    // A refusal by a dead server is not the server saying it is not ready.
    if (key === 'readinessFalseMs' && goneAt !== undefined && at > goneAt) continue;
    marks[Math.min(columns - 1, Math.floor(at / columnMs))] = letter;
    seen.push(`${letter} ${words}`);
  }
  return [
    `answered │${bar(answered)}│`,
    `lost     │${bar(lost)}│ ${Math.max(0, ...lost) > 0 ? `(most in a column: ${Math.max(...lost)})` : ''}`.trimEnd(),
    `         └${marks.join('')}┘`,
    `          ${Math.round(columnMs)} ms per column; ${seen.join(', ')}`,
  ];
}

/** A failing drain check in one line, for a JUnit failure message. */
export function drainFailureMessage(run: RunDocument): string {
  const failed = run.verdict.checks.find((c) => !c.ok);
  const l = run.drain?.ledger;
  const timings = l ? timingLine(l) : undefined;
  return `${failed?.text ?? 'failed'}${l ? ` (${lostSentence(l)}${timings ? `; ${timings}` : ''})` : ''}`;
}
