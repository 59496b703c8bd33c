/**
 * signal-during-request's load: four clients on 127.0.0.1, a new connection
 * per request (`GET /work?ms=5`), each request an entry of the ledger. The
 * first second carries no signal; then SIGUSR1 comes every ~0.5 s (seeded
 * jitter), SIGNALS times. Each signal is read against quiet instants of the
 * same run (kinds/ledger/latency.ts): the lower median of the latencies in
 * flight READ_AFTER_SIGNAL_MS after it, against the median of the same reading at quiet instants (in
 * the first second, and QUIET_BEFORE_SIGNAL_MS before each later signal, well
 * after the last one's work) plus BOUND_MARGIN_MS. On a loaded machine the
 * first second's p99 + 100 ms rose to 110-279 ms (the machine's tail, not the
 * typical request): 6 of 20 correct runs could not tell. A request in flight
 * at a stalled signal and answered over the bound is lost, when at least half
 * the signals stalled (the run shows the stall); fewer is left to the judge
 * (could be the machine). The exercise ends the run itself; repro then stops
 * the server.
 */
import { request } from 'node:http';
import { EntryLedger } from '../../kinds/ledger/entries.js';
import { readStalls, stallShown, type StallReading, type TimedRequest } from '../../kinds/ledger/latency.js';
import type { LatencyRecord } from '../../kinds/ledger/record.js';
import type { LedgerExercise } from './ledger-run.js';
import { seededPick } from './queue-broker.js';

const CLIENTS = 4;
const WORK_MS = 5;
/** Load with no signal before the first. */
const BASELINE_MS = 1000;
/** Quiet instants in the first second: from the first (after the server's first requests) every QUIET_STEP_MS. */
const FIRST_QUIET_MS = 300;
const QUIET_STEP_MS = 100;
/** A quiet instant before each later signal: this long before it (the previous one's 200 ms of work are over by then). */
const QUIET_BEFORE_SIGNAL_MS = 150;
const SIGNALS = 6;
const SIGNAL_EVERY_MS = 500;
const SIGNAL_JITTER_MS = 100;
/** After the last signal, the load goes on this long (its stall must show). */
const TAIL_MS = 500;
/** The bound is the quiet instants' median reading plus this, ms: half the handler's 200 ms of work. */
export const BOUND_MARGIN_MS = 100;
/** Requests kept for the per-signal panel (beyond it: a stride of them, and every one over the bound). */
const MAX_REQUESTS_KEPT = 1500;
const REQUEST_TIMEOUT_MS = 5000;
const MAX_SIGNALS_KEPT = 50;

interface Outcome {
  startedAt: number;
  latencyMs?: number;
  failed?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function get(port: number): Promise<{ ok: boolean; detail?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: `/work?ms=${WORK_MS}`, agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? { ok: true } : { ok: false, detail: `status ${res.statusCode}` }));
      res.on('error', (e) => resolve({ ok: false, detail: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (e) => resolve({ ok: false, detail: e.message }));
    req.end();
  });
}

const r1 = (n: number) => Math.round(n * 10) / 10;

/**
 * A signal is read this long after it was sent: a request the server had
 * already answered (the masked role's request being served; its end not yet
 * read by this process) is still in flight at the send, and with two such the
 * lower median of four was unstalled at a signal that stalled the other two
 * (2 of 9 loaded compares). Well inside the 200 ms of work, so every request
 * in flight then waits for most of it.
 */
const READ_AFTER_SIGNAL_MS = 20;

/** The quiet instants of a run: in the first second, and before each later signal (and once after the last, as long after it). */
function quietInstants(loadStartedAt: number, signalsAt: readonly number[]): number[] {
  const first: number[] = [];
  for (let at = FIRST_QUIET_MS; at < BASELINE_MS; at += QUIET_STEP_MS) first.push(loadStartedAt + at);
  const between = signalsAt.slice(1).map((at) => at - QUIET_BEFORE_SIGNAL_MS);
  const last = signalsAt.at(-1);
  return [...first, ...between, ...(last === undefined ? [] : [last + SIGNAL_EVERY_MS - QUIET_BEFORE_SIGNAL_MS])];
}

/** The requests for the panel: all of them up to the cap, else a stride of them and every one over the bound. */
function keptRequests(done: readonly TimedRequest[], boundMs: number, loadStartedAt: number): LatencyRecord['requests'] {
  const stride = Math.ceil(done.length / MAX_REQUESTS_KEPT);
  const kept = done.filter((r, i) => i % stride === 0 || r.latencyMs > boundMs);
  return kept.map((r) => ({ atMs: r1(Math.max(0, r.startedAt - loadStartedAt)), latencyMs: r1(r.latencyMs) }));
}

export function requestLatencyExercise(seed: number): LedgerExercise {
  const ledger = new EntryLedger();
  const outcomes = new Map<string, Outcome>();
  const signalsAt: number[] = [];
  let loadStartedAt = 0;
  let stopped = false;
  let nextId = 1;
  let handedOutAtSignal = 0;
  let resolveFinished: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    resolveFinished = resolve;
  });
  const clients: Promise<void>[] = [];

  const client = async (port: number) => {
    while (!stopped) {
      const id = String(nextId++);
      const startedAt = performance.now();
      ledger.handOut(id, startedAt);
      const outcome: Outcome = { startedAt };
      outcomes.set(id, outcome);
      const answer = await get(port);
      const endedAt = performance.now();
      if (answer.ok) {
        outcome.latencyMs = endedAt - startedAt;
        ledger.acknowledge(id, endedAt);
      } else {
        outcome.failed = answer.detail ?? 'failed';
      }
    }
  };

  const run = async (port: number, signalNow: () => void) => {
    loadStartedAt = performance.now();
    for (let i = 0; i < CLIENTS; i += 1) clients.push(client(port));
    await sleep(BASELINE_MS);
    for (let k = 0; k < SIGNALS; k += 1) {
      signalsAt.push(performance.now());
      signalNow();
      await sleep(SIGNAL_EVERY_MS + seededPick(seed + k, SIGNAL_JITTER_MS));
    }
    await sleep(TAIL_MS);
    stopped = true;
    await Promise.all(clients);
    resolveFinished();
  };

  const answered = (): TimedRequest[] => [...outcomes.values()].flatMap((o) => (o.latencyMs === undefined ? [] : [{ startedAt: o.startedAt, latencyMs: o.latencyMs }]));
  let reading: StallReading | undefined;
  // Read once, after the load is over: every request in flight at an instant has its answer by then.
  const readAt = () => signalsAt.map((at) => at + READ_AFTER_SIGNAL_MS);
  const read = (): StallReading => (reading ??= readStalls(answered(), readAt(), quietInstants(loadStartedAt, signalsAt), BOUND_MARGIN_MS));

  /** The last signal sent before `at` (its index), or -1. */
  const signalBefore = (at: number) => signalsAt.findLastIndex((s) => s <= at);
  /** The stalled signal this request was in flight at (its index), or -1. */
  const stalledSignalOf = (o: Outcome, stalled: readonly boolean[]) => readAt().findIndex((at, k) => stalled[k] === true && o.startedAt <= at && o.startedAt + (o.latencyMs ?? 0) > at);

  return {
    unit: 'request',
    kept: 'answered, not stalled by a signal',
    args: [],
    // The first signal comes after the baseline second, whatever was sent in it.
    get signalAfter() {
      return handedOutAtSignal;
    },
    listening: Promise.resolve(),
    finished,
    start(signalNow, ready) {
      const port = typeof ready.port === 'number' ? ready.port : 0;
      void run(port, signalNow);
    },
    markSignal(at) {
      handedOutAtSignal = ledger.handedOut;
      ledger.markSignal(at);
    },
    async settle() {
      stopped = true;
      const { boundMs, stalled } = read();
      const shown = stallShown(stalled.filter(Boolean).length, signalsAt.length) === 'stall';
      return ledger.settle((id) => {
        const o = outcomes.get(id);
        if (!o) return 'unsettled';
        if (o.failed) {
          const k = signalBefore(o.startedAt);
          return { lost: `failed ${k < 0 ? 'before any signal' : `after SIGUSR1 #${k + 1}`}: ${o.failed}` };
        }
        if (o.latencyMs === undefined) return 'unsettled';
        const k = shown && o.latencyMs > boundMs ? stalledSignalOf(o, stalled) : -1;
        return k < 0 ? 'kept' : { lost: `in flight at SIGUSR1 #${k + 1} and answered in ${r1(o.latencyMs)} ms, over the bound of ${r1(boundMs)} ms` };
      });
    },
    latency(): LatencyRecord {
      const r = read();
      const done = answered();
      const perSignal = signalsAt.slice(0, MAX_SIGNALS_KEPT).map((at, k) => {
        const until = signalsAt[k + 1] ?? Number.POSITIVE_INFINITY;
        const inWindow = done.filter((o) => o.startedAt + o.latencyMs >= at && o.startedAt < until);
        const inFlightMs = r.atSignalMs[k];
        return { atMs: r1(at - (signalsAt[0] ?? at)), ...(inFlightMs === undefined ? {} : { inFlightMs: r1(inFlightMs) }), stalled: r.stalled[k] === true, maxMs: r1(Math.max(0, ...inWindow.map((o) => o.latencyMs))), overBound: inWindow.filter((o) => o.latencyMs > r.boundMs).length };
      });
      return {
        ...(r.quietMs === undefined ? {} : { quietMs: r1(r.quietMs), boundMs: r1(r.boundMs) }),
        boundRule: `the median over ${r.quietInstants} quiet instants (no signal's work) of the lower median of the latencies in flight + ${BOUND_MARGIN_MS} ms; a signal whose requests in flight read over it stalled them`,
        quietInstants: r.quietInstants,
        quietOverBound: r.quietOverBound,
        stalledSignals: r.stalled.filter(Boolean).length,
        maxMs: r1(Math.max(0, ...done.map((o) => o.latencyMs))),
        signals: signalsAt.length,
        firstSignalMs: r1(Math.max(0, (signalsAt[0] ?? loadStartedAt) - loadStartedAt)),
        perSignal,
        requests: keptRequests(done, r.boundMs, loadStartedAt),
      };
    },
    dispose() {
      stopped = true;
    },
  };
}
