/** Turns samples and events into the numbers people read. Pure: the same run always measures the same. */
import { FD_KINDS, type KindCounts } from '../fdprobe/kinds.js';
import type { Measured, MeasuredRun } from './run-document.js';
import { percentile, round, slope } from './stats.js';

/** A run as the harness hands it over: everything but the measurements and the verdict. */
export type RecordedRun = Omit<MeasuredRun, 'measured'> & { signalHandling: Measured['signalHandling'] };

/**
 * The reload that fails with EMFILE, given the free slots below the limit at the baseline and the growth
 * per reload: the first whose fds no longer fit. A reload that holds `peak` fds at its peak (more than it
 * leaks) fails once the leak so far plus that peak no longer fits: reload k needs (k − 1) × growth + peak.
 */
export function predictEmfile(freeSlots: number, growthPerReload: number, peak = growthPerReload): number {
  const worst = Math.max(peak, growthPerReload);
  return Math.floor((freeSlots - worst) / growthPerReload) + 2;
}

export function measure(run: RecordedRun): Measured {
  const { samples } = run;
  const failed = run.events.find((e) => e.event === 'register-failed') as { seq: number; code: string } | undefined;
  const emfileAtReload = failed ? failed.seq : (run.emfileObserved?.reload ?? null);
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
  const predictedEmfileAtReload = predictedFor(run, slotsUsed, growthPerReload);
  const latencies = samples.flatMap((s) => (s.roundTripMs === undefined ? [] : [s.roundTripMs]));
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  const metrics = measureMetrics(run, emfileAtReload);
  return {
    baselineFds,
    finalFds: last?.fds ?? 0,
    growthPerReload,
    growthByKind,
    emfileAtReload,
    registerFailure: failed ? failed.code : run.emfileObserved ? 'EMFILE' : null,
    predictedEmfileAtReload,
    signalHandling: run.signalHandling,
    // Reloads are taken in order, so the last taken one counts them (thinned samples or not).
    reloadsDone: samples.findLast((s) => s.roundTripMs !== undefined || s.settleMs !== undefined)?.reload ?? 0,
    latencyMs: { p50: p50 === null ? null : round(p50), p99: p99 === null ? null : round(p99) },
    rssKb: { start: first?.rssKb ?? null, end: last?.rssKb ?? null },
    metrics,
  };
}

/** watch: the process that kept fds has its own limit; the tree's total against the program's limit predicts nothing. */
function predictedFor(run: RecordedRun, slotsUsed: number, growthPerReload: number): number | null {
  if (run.tree) return run.tree.grew?.predictedEmfileAtReload ?? null;
  return growthPerReload > 0 && run.ulimit !== null ? predictEmfile(run.ulimit - slotsUsed, growthPerReload, run.peakFdsPerReload) : null;
}

/** Each recorded metric: first and last value, and its slope over the reloads before any register failure. */
function measureMetrics(run: RecordedRun, emfileAtReload: number | null): Measured['metrics'] {
  const metrics: Measured['metrics'] = {};
  for (const { id } of run.metrics) {
    const with_ = run.samples.filter((s) => s.metrics?.[id] !== undefined);
    const upTo = with_.filter((s) => emfileAtReload === null || s.reload < emfileAtReload);
    metrics[id] = {
      start: with_[0]?.metrics?.[id] ?? null,
      end: with_.at(-1)?.metrics?.[id] ?? null,
      growthPerReload: round(slope(upTo.map((s) => s.reload), upTo.map((s) => s.metrics?.[id] as number))),
    };
  }
  return metrics;
}

/** Kinds as `pipe +2.000, unix +1.000`, or `none`. */
export function formatKinds(kinds: KindCounts): string {
  const parts = Object.entries(kinds).map(([k, v]) => `${k} ${(v as number) >= 0 ? '+' : ''}${(v as number).toFixed(3)}`);
  return parts.length ? parts.join(', ') : 'none';
}
