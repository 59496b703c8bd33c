/**
 * signal-during-request's load: four clients on 127.0.0.1, a new connection
 * per request (`GET /work?ms=5`), each request an entry of the ledger. The
 * first second carries no signal: its latencies set the bound, their p99 plus
 * BOUND_MARGIN_MS (half the scenario's 200 ms of handler work: a stall of the
 * whole work cannot hide under it, and a request as slow as the machine's own
 * tail fits; on a machine loaded by other work, p99 × 4 put the bound above
 * the stall itself). Then SIGUSR1 comes every ~0.5 s
 * (seeded jitter), SIGNALS times; a request answered within the bound is kept,
 * one answered later (or not at all) is lost, with how long it took and after
 * which signal. The exercise ends the run itself; repro then stops the server.
 */
import { request } from 'node:http';
import { EntryLedger } from '../../kinds/ledger/entries.js';
import type { LatencyRecord } from '../../kinds/ledger/record.js';
import type { LedgerExercise } from './ledger-run.js';
import { seededPick } from './queue-broker.js';

const CLIENTS = 4;
const WORK_MS = 5;
/** Load with no signal, whose latencies set the bound. */
const BASELINE_MS = 1000;
const SIGNALS = 6;
const SIGNAL_EVERY_MS = 500;
const SIGNAL_JITTER_MS = 100;
/** After the last signal, the load goes on this long (its stall must show). */
const TAIL_MS = 500;
/** The bound is the baseline's p99 plus this, ms. */
export const BOUND_MARGIN_MS = 100;
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

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
}

const r1 = (n: number) => Math.round(n * 10) / 10;

export function requestLatencyExercise(seed: number): LedgerExercise {
  const ledger = new EntryLedger();
  const outcomes = new Map<string, Outcome>();
  const signalsAt: number[] = [];
  let boundMs = Number.POSITIVE_INFINITY;
  let baselineP99Ms = 0;
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
    for (let i = 0; i < CLIENTS; i += 1) clients.push(client(port));
    await sleep(BASELINE_MS);
    const baseline = [...outcomes.values()].flatMap((o) => (o.latencyMs === undefined ? [] : [o.latencyMs]));
    baselineP99Ms = p99(baseline);
    boundMs = baselineP99Ms + BOUND_MARGIN_MS;
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

  /** The last signal sent before `at` (its index), or -1. */
  const signalBefore = (at: number) => signalsAt.findLastIndex((s) => s <= at);

  return {
    unit: 'request',
    kept: 'answered within the bound',
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
      return ledger.settle((id) => {
        const o = outcomes.get(id);
        if (!o) return 'unsettled';
        const k = signalBefore(o.startedAt + (o.latencyMs ?? 0));
        const after = k < 0 ? 'before any signal' : `after SIGUSR1 #${k + 1}`;
        if (o.failed) return { lost: `failed ${after}: ${o.failed}` };
        if (o.latencyMs === undefined) return 'unsettled';
        return o.latencyMs <= boundMs ? 'kept' : { lost: `answered over the bound of ${r1(boundMs)} ms, ${after}` };
      });
    },
    latency(): LatencyRecord {
      const done = [...outcomes.values()].filter((o) => o.latencyMs !== undefined);
      const perSignal = signalsAt.slice(0, MAX_SIGNALS_KEPT).map((at, k) => {
        const until = signalsAt[k + 1] ?? Number.POSITIVE_INFINITY;
        const inWindow = done.filter((o) => o.startedAt + (o.latencyMs as number) >= at && o.startedAt < until);
        return { atMs: r1(at - (signalsAt[0] ?? at)), maxMs: r1(Math.max(0, ...inWindow.map((o) => o.latencyMs as number))), overBound: inWindow.filter((o) => (o.latencyMs as number) > boundMs).length };
      });
      return { baselineP99Ms: r1(baselineP99Ms), boundMs: r1(boundMs), boundRule: `the p99 of the first ${BASELINE_MS} ms with no signal + ${BOUND_MARGIN_MS} ms`, maxMs: r1(Math.max(0, ...done.map((o) => o.latencyMs as number))), signals: signalsAt.length, perSignal };
    },
    dispose() {
      stopped = true;
    },
  };
}
