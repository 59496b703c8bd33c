/** Turns samples into the numbers people read and the pass/fail a gate needs. Pure. */
import { FD_KINDS, type KindCounts } from '../fdprobe/kinds.js';
import type { RunDocument, Verdict } from './run-document.js';
import { percentile, round, slope } from './stats.js';

export interface Expectation {
  /** fds per reload the broken pattern should leak. */
  fdsPerReload: number;
  /** Largest growth per reload that still counts as flat. */
  maxGrowth: number;
}

type Measured = Omit<RunDocument, 'verdict'> & { signalHandling: Verdict['signalHandling'] };

/** The measurements, without judging them. */
export function measure(run: Measured): Omit<Verdict, 'pass' | 'reasons'> {
  const { samples } = run;
  const failed = run.events.find((e) => e.event === 'register-failed');
  const emfileAtReload = failed && failed.event === 'register-failed' ? failed.seq : (run.emfileObserved?.reload ?? null);
  // Growth is fitted over the reloads that worked: after a failure nothing new can open.
  const fitted = emfileAtReload === null ? samples : samples.filter((s) => s.reload < emfileAtReload);
  const xs = fitted.map((s) => s.reload);
  const growthPerReload = round(slope(xs, fitted.map((s) => s.fds)));
  const growthByKind: KindCounts = {};
  for (const kind of FD_KINDS) {
    const g = round(slope(xs, fitted.map((s) => s.fdsByKind[kind] ?? 0)));
    if (g !== 0) growthByKind[kind] = g;
  }
  const first = samples[0];
  const last = samples.at(-1);
  const baselineFds = first?.fds ?? 0;
  const slotsUsed = baselineFds - run.fdsAboveLimitAtStart;
  const predictedEmfileAtReload = growthPerReload > 0 ? Math.floor((run.ulimit - slotsUsed) / growthPerReload) + 1 : null;
  const latencies = samples.flatMap((s) => (s.roundTripMs === undefined ? [] : [s.roundTripMs]));
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  return {
    baselineFds,
    finalFds: last?.fds ?? 0,
    growthPerReload,
    growthByKind,
    emfileAtReload,
    registerFailure: failed && failed.event === 'register-failed' ? failed.code : run.emfileObserved ? 'EMFILE' : null,
    predictedEmfileAtReload,
    signalHandling: run.signalHandling,
    listenersStart: first?.listeners ?? null,
    listenersEnd: last?.listeners ?? null,
    // Reloads are acknowledged in order, so the last acknowledged one counts them (thinned samples or not).
    reloadsDone: samples.findLast((s) => s.roundTripMs !== undefined || s.settleMs !== undefined)?.reload ?? 0,
    latencyMs: { p50: p50 === null ? null : round(p50), p99: p99 === null ? null : round(p99) },
    rssKb: { start: first?.rssKb ?? null, end: last?.rssKb ?? null },
  };
}

const fmt = (n: number) => String(round(n, 3));

/** What the broken pattern must show: steady growth, EMFILE where predicted, signal handling dead. */
function judgeBroken(m: ReturnType<typeof measure>, run: Measured, expect: Expectation): [boolean, string][] {
  const checks: [boolean, string][] = [];
  const growthOk = Math.abs(m.growthPerReload - expect.fdsPerReload) <= 0.05 * expect.fdsPerReload;
  checks.push([growthOk, `fds grew ${fmt(m.growthPerReload)}/reload (the ${run.channel} channel holds ${expect.fdsPerReload})`]);
  checks.push([
    m.registerFailure !== null,
    m.registerFailure ? `${m.registerFailure} at reload ${m.emfileAtReload} under ulimit ${run.ulimit}` : `no register failure within ${m.reloadsDone} reloads under ulimit ${run.ulimit}`,
  ]);
  if (m.emfileAtReload !== null && m.predictedEmfileAtReload !== null) {
    checks.push([m.emfileAtReload === m.predictedEmfileAtReload, `predicted from (ulimit − baseline below the limit) / growth: reload ${m.predictedEmfileAtReload}`]);
  }
  if (m.registerFailure !== null) checks.push([m.signalHandling === 'dead', `signal handling after the failure: ${m.signalHandling}`]);
  return checks;
}

/** What the correct pattern must show: flat fds and listeners over every planned reload. */
function judgeCorrect(m: ReturnType<typeof measure>, run: Measured, expect: Expectation): [boolean, string][] {
  return [
    [m.growthPerReload <= expect.maxGrowth, `fds ${m.baselineFds} → ${m.finalFds}, growth ${fmt(m.growthPerReload)}/reload (flat means ≤ ${expect.maxGrowth})`],
    [m.listenersStart === m.listenersEnd, `listeners ${m.listenersStart ?? '?'} → ${m.listenersEnd ?? '?'}`],
    [m.registerFailure === null, m.registerFailure ? `${m.registerFailure} at reload ${m.emfileAtReload}` : 'no register failure'],
    [m.reloadsDone >= run.reloadsPlanned, `${m.reloadsDone} of ${run.reloadsPlanned} reloads acknowledged`],
  ];
}

/** watch: any program. A leak is growth above the threshold or EMFILE seen; a run it did not take is inconclusive. */
function judgeWatch(m: ReturnType<typeof measure>, run: Measured, expect: Expectation): [boolean, string][] {
  return [
    [m.growthPerReload <= expect.maxGrowth, `fds ${m.baselineFds} → ${m.finalFds}, growth ${fmt(m.growthPerReload)}/reload (gate: ≤ ${expect.maxGrowth})`],
    [m.emfileAtReload === null, m.emfileAtReload === null ? 'no EMFILE seen' : `${m.registerFailure} at reload ${m.emfileAtReload}`],
  ];
}

const TOOK_RELOADS: readonly string[] = ['reloads-done', 'emfile'];

export function judge(run: Measured, expect: Expectation): Verdict {
  const m = measure(run);
  const checks = run.pattern === 'broken' ? judgeBroken(m, run, expect) : run.pattern === 'correct' ? judgeCorrect(m, run, expect) : judgeWatch(m, run, expect);
  // With no sample, the growth check (the first) measured nothing: say so rather than "fds 0 → 0".
  if (run.samples.length === 0) checks[0] = [false, 'fds not measured: the run ended before its baseline sample'];
  const early = !TOOK_RELOADS.includes(run.end.reason);
  if (early) checks.unshift([false, `run ended early: ${run.end.detail}`]);
  const failedFirst = [...checks.filter(([ok]) => !ok), ...checks.filter(([ok]) => ok)];
  const pass = checks.every(([ok]) => ok);
  // A watched program that did not take its reloads shows no leak and no absence of one; a leak seen before still counts.
  const leakSeen = run.pattern === 'watch' && (m.growthPerReload > expect.maxGrowth || m.emfileAtReload !== null);
  const inconclusive = run.pattern === 'watch' && early && !leakSeen ? { inconclusive: true } : {};
  return { pass, ...inconclusive, reasons: failedFirst.map(([ok, text]) => `${ok ? 'ok' : 'FAIL'}: ${text}`), ...m };
}
