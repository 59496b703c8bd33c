/**
 * The fd checks the reload kinds share (reloads, rounds, tree): growth per
 * reload, the register failure and its prediction, signal handling after it,
 * the scenario's metrics, every reload taken. Pure and after the run, so
 * `repro report` judges a saved run again; knows no scenario: expectations are data.
 */
import type { Check, Expectation, Measured, MeasuredRun, RunDocument, Verdict } from '../../model/run-document.js';
import { formatKinds } from '../../model/measure.js';
import { round } from '../../model/stats.js';

export const fmt = (n: number) => String(round(n, 3));

/** Reasons a run ends that still count as having taken its reloads. */
const TOOK_RELOADS: readonly string[] = ['reloads-done', 'emfile'];

/** Reasons that end a watch as inconclusive before any verdict about fds. */
const NOT_TAKEN: readonly string[] = ['not-delivered', 'reload-unfinished', 'handler-deadlock', 'no-handler'];

/** Growth per reload against the expected rate (a leak) or the gate (a run that should stay flat). */
export function growthCheck(m: Measured, run: MeasuredRun, e: Expectation): Check {
  if (e.fdsPerReload > 0) {
    const ok = Math.abs(m.growthPerReload - e.fdsPerReload) <= 0.05 * e.fdsPerReload;
    return { id: 'growth', ok, text: `fds grew ${fmt(m.growthPerReload)}/reload (${formatKinds(m.growthByKind)}; expected ${e.fdsPerReload})` };
  }
  // A slope needs the baseline and at least one reload: with one sample there is nothing to pass.
  if (run.samples.length < 2) return { id: 'growth', ok: false, text: `growth not measured: no reload sampled after the baseline (gate: ≤ ${e.maxGrowth})` };
  const ok = m.growthPerReload <= e.maxGrowth;
  return { id: 'growth', ok, text: `fds ${m.baselineFds} → ${m.finalFds}, growth ${fmt(m.growthPerReload)}/reload (gate: ≤ ${e.maxGrowth})` };
}

function failureChecks(m: Measured, run: MeasuredRun, e: Expectation): Check[] {
  const limit = run.ulimit !== null ? ` under ulimit ${run.ulimit}` : '';
  if (e.registerFailure === 'forbidden') {
    if (m.registerFailure && run.emfileObserved?.ahead) {
      const at = m.emfileAtReload as number;
      return [{ id: 'register-failure', ok: false, text: `EMFILE ahead${limit}: reload ${at + 1} cannot open its fds (predicted from the free slots after reload ${at}; no call failed)` }];
    }
    if (m.registerFailure) return [{ id: 'register-failure', ok: false, text: `${m.registerFailure} at reload ${m.emfileAtReload}${limit}` }];
    // No EMFILE is only seen over reloads that were taken.
    return [m.reloadsDone > 0 ? { id: 'register-failure', ok: true, text: `no EMFILE seen in ${m.reloadsDone} reloads` } : { id: 'register-failure', ok: false, text: 'EMFILE not checked: no reload was taken' }];
  }
  const checks: Check[] = [
    {
      id: 'register-failure',
      ok: m.registerFailure !== null,
      text: m.registerFailure ? `${m.registerFailure} at reload ${m.emfileAtReload}${limit}` : `no register failure within ${m.reloadsDone} reloads${limit}`,
    },
  ];
  if (m.emfileAtReload !== null && m.predictedEmfileAtReload !== null) {
    checks.push({
      id: 'emfile-prediction',
      ok: m.emfileAtReload === m.predictedEmfileAtReload,
      text: `predicted from (ulimit − baseline below the limit${run.peakFdsPerReload ? ` − a reload's peak of ${run.peakFdsPerReload}` : ''}) / growth: reload ${m.predictedEmfileAtReload}`,
    });
  }
  if (m.registerFailure !== null && e.afterFailure) {
    checks.push({ id: 'signal-handling', ok: m.signalHandling === e.afterFailure, text: `signal handling after the failure: ${m.signalHandling} (expected ${e.afterFailure})` });
  }
  return checks;
}

function metricChecks(m: Measured, run: MeasuredRun, e: Expectation): Check[] {
  const label = (id: string) => run.metrics.find((d) => d.id === id)?.label ?? id;
  const value = (v: number | null) => (v === null ? '—' : String(v));
  const flat = e.flatMetrics.map((id): Check => {
    const x = m.metrics[id];
    return { id: `metric:${id}`, ok: x !== undefined && x.start !== null && x.start === x.end, text: `${label(id)} ${value(x?.start ?? null)} → ${value(x?.end ?? null)}` };
  });
  const grows = e.growingMetrics.map((id): Check => {
    const x = m.metrics[id];
    return { id: `metric:${id}`, ok: x !== undefined && x.growthPerReload > 0, text: `${label(id)} ${value(x?.start ?? null)} → ${value(x?.end ?? null)} (${fmt(x?.growthPerReload ?? 0)}/reload)` };
  });
  return [...flat, ...grows];
}

/** What a kind adds to the shared fd checks: its own growth check, and checks right after it (the tree's survivors). */
export interface FdJudgeParts {
  /** Replaces the growth check (the tree shows growth as information when survivors gate). */
  growth?: Check;
  /** Checks that follow the growth check. */
  afterGrowth?: Check[];
}

/** Judges a reload run (protocol, rounds or tree) against an expectation. */
export function judgeFdRun(run: MeasuredRun, expectation: Expectation, parts: FdJudgeParts = {}): Verdict {
  const m = run.measured;
  // With no sample the growth check measured nothing: say so rather than "fds 0 → 0".
  const growth: Check = run.samples.length === 0 ? { id: 'growth', ok: false, text: 'fds not measured: the run ended before its baseline sample' } : (parts.growth ?? growthCheck(m, run, expectation));
  const checks: Check[] = [growth, ...(parts.afterGrowth ?? []), ...failureChecks(m, run, expectation), ...metricChecks(m, run, expectation)];
  if (expectation.allReloads) checks.push({ id: 'reloads', ok: m.reloadsDone >= run.reloadsPlanned, text: `${m.reloadsDone} of ${run.reloadsPlanned} reloads taken` });
  const early = !TOOK_RELOADS.includes(run.end.reason);
  if (early) checks.unshift({ id: 'ended', ok: false, text: `run ended early: ${run.end.detail}` });
  // A program that did not take its reloads shows no leak and no absence of one; a leak seen before still counts.
  const leakSeen = m.emfileAtReload !== null || (run.samples.length > 1 && checks.some((c) => !c.ok && (c.id === 'growth' || c.id === 'survivors')));
  // A signal that was never taken, or a reload that never finished, says nothing about fds, whatever they did before.
  const notTaken = NOT_TAKEN.includes(run.end.reason);
  const inconclusive = expectation.earlyIsInconclusive && early && (!leakSeen || notTaken);
  return {
    pass: checks.every((c) => c.ok),
    ...(inconclusive ? { inconclusive: true } : {}),
    checks: [...checks.filter((c) => !c.ok), ...checks.filter((c) => c.ok)],
    expectation,
  };
}

/** A reload run that passed, in a compare's sentence: `20 → 20 fds, 0/reload over 30 reloads`. */
export function fdRunSummary(run: RunDocument): string {
  const m = run.measured;
  const then = m.signalHandling === 'not-checked' ? '' : `, signal handling then ${m.signalHandling}`;
  const failure = m.registerFailure ? `, ${m.registerFailure} at reload ${m.emfileAtReload}${then}` : '';
  // The growth is fitted over the reloads before EMFILE: name those, so fds ÷ reloads reads as the slope.
  const fitted = m.emfileAtReload !== null ? Math.max(0, Math.min(m.reloadsDone, m.emfileAtReload - 1)) : m.reloadsDone;
  return `${m.baselineFds} → ${m.finalFds} fds, ${fmt(m.growthPerReload)}/reload over ${fitted} reloads${failure}`;
}
