/**
 * The verdict: a measured run against what its scenario expects. Pure and
 * after the run, so `repro report` can judge a saved run again with other
 * thresholds. Knows no scenario: expectations are data.
 */
import type { Check, CompareVerdict, Expectation, Measured, MeasuredRun, ReproDocument, RunDocument, Verdict } from './run-document.js';
import { drainChecks, drainInconclusive, exitSentence } from './drain.js';
import { formatKinds } from './measure.js';
import { round } from './stats.js';

const fmt = (n: number) => String(round(n, 3));

/** Reasons a run ends that still count as having taken its reloads. */
const TOOK_RELOADS: readonly string[] = ['reloads-done', 'emfile'];

/** Reasons that end a watch as inconclusive before any verdict about fds. */
const NOT_TAKEN: readonly string[] = ['not-delivered', 'reload-unfinished', 'no-handler'];

function growthCheck(m: Measured, run: MeasuredRun, e: Expectation): Check {
  if (e.gate === 'survivors' && run.survivors) {
    return { id: 'growth', ok: true, text: `fds ${m.baselineFds} → ${m.finalFds}, growth ${fmt(m.growthPerReload)}/reload (information: leaks are judged by the fds that survive)` };
  }
  if (e.fdsPerReload > 0) {
    const ok = Math.abs(m.growthPerReload - e.fdsPerReload) <= 0.05 * e.fdsPerReload;
    return { id: 'growth', ok, text: `fds grew ${fmt(m.growthPerReload)}/reload (${formatKinds(m.growthByKind)}; expected ${e.fdsPerReload})` };
  }
  // A slope needs the baseline and at least one reload: with one sample there is nothing to pass.
  if (run.samples.length < 2) return { id: 'growth', ok: false, text: `growth not measured: no reload sampled after the baseline (gate: ≤ ${e.maxGrowth})` };
  const ok = m.growthPerReload <= e.maxGrowth;
  return { id: 'growth', ok, text: `fds ${m.baselineFds} → ${m.finalFds}, growth ${fmt(m.growthPerReload)}/reload (gate: ≤ ${e.maxGrowth})` };
}

/** watch: the fds each counted reload opened that were still open at the end, per reload, against the gate. */
function survivorsCheck(run: MeasuredRun, e: Expectation): Check[] {
  const s = run.survivors;
  if (e.gate !== 'survivors' || !s) return [];
  const kinds = Object.entries(s.survivedKinds).map(([k, n]) => `${n} ${k}`).join(', ');
  // Where they are: one process, or each of several (two forked workers leaking alike hold half each).
  const holders = (s.byProcess ?? []).filter((p) => p.survived > 0);
  const where =
    s.survivorsCounted === 0
      ? ''
      : holders.length > 1
        ? ` in ${holders.length} processes: ${holders.slice(0, 3).map((p) => `pid ${p.pid} ${p.survived}`).join(', ')}${holders.length > 3 ? ', …' : ''}`
        : run.tree?.grew
          ? ` in pid ${run.tree.grew.pid}`
          : '';
  const span = s.reloadsCounted === 1 ? 'reload 1' : `reloads 1–${s.reloadsCounted}`;
  return [
    {
      id: 'survivors',
      ok: s.survivorsPerReload <= e.maxGrowth,
      text: `${fmt(s.survivorsPerReload)} fds/reload still open at the end, over ${span}${kinds ? ` (${kinds}${where})` : ''} (gate: ≤ ${e.maxGrowth})`,
    },
  ];
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

/**
 * A load-and-signal run, judged by its ledger: the fd checks do not apply
 * (one baseline sample, no reloads). Inconclusive when the expectation allows
 * it and the run could not tell (stopped early, too few requests, no load at
 * the signal) without losing anything.
 */
function judgeDrainRun(run: MeasuredRun, expectation: Expectation & { drain: NonNullable<Expectation['drain']> }): Verdict {
  const drain = run.drain;
  const checks: Check[] = drain
    ? drainChecks({ ended: drain.ended, ledger: drain.ledger }, expectation.drain).map((c) => ({ ...c, id: c.id === 'ended' ? 'ended' : `drain:${c.id}` }))
    : [{ id: 'ended', ok: false, text: `run ended before any load: ${run.end.detail}` }];
  const inconclusive = expectation.earlyIsInconclusive && (drain ? drainInconclusive({ ended: drain.ended, ledger: drain.ledger }, checks.map((c) => ({ ...c, id: c.id.replace(/^drain:/, '') }))) : true);
  return {
    pass: checks.every((c) => c.ok),
    ...(inconclusive && !checks.every((c) => c.ok) ? { inconclusive: true } : {}),
    checks: [...checks.filter((c) => !c.ok), ...checks.filter((c) => c.ok)],
    expectation,
  };
}

/** Judges one run against an expectation (by default the one it carries). */
export function judge(run: MeasuredRun, expectation: Expectation): Verdict {
  if (expectation.drain) return judgeDrainRun(run, { ...expectation, drain: expectation.drain });
  const m = run.measured;
  // With no sample the growth check measured nothing: say so rather than "fds 0 → 0".
  const growth: Check = run.samples.length === 0 ? { id: 'growth', ok: false, text: 'fds not measured: the run ended before its baseline sample' } : growthCheck(m, run, expectation);
  const checks: Check[] = [growth, ...survivorsCheck(run, expectation), ...failureChecks(m, run, expectation), ...metricChecks(m, run, expectation)];
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

/**
 * The same run judged again with changed thresholds (`repro report
 * --max-growth`). `maxGrowth` only moves the gate of runs that should stay
 * flat: a leak's expected rate is the scenario's, not a threshold.
 */
export function rejudge(run: RunDocument, change: Partial<Expectation>): RunDocument {
  const { baseline: _dropped, verdict, ...rest } = run;
  return { ...rest, verdict: judge(rest, { ...verdict.expectation, ...change }) };
}

/** One sentence per run for a compare: as its role expects, or what went wrong first. */
export function judgeCompare(runs: readonly RunDocument[]): CompareVerdict {
  const checks = runs.map((run): Check => {
    const failed = run.verdict.checks.find((c) => !c.ok);
    return {
      id: `run:${run.role}`,
      ok: run.verdict.pass,
      text: run.verdict.pass ? `${run.role}: ${run.verdict.expectation.shows} (${summaryOf(run)})` : `${run.role}: expected ${run.verdict.expectation.shows}, but ${failed?.text ?? 'see its run'}`,
    };
  });
  return { pass: checks.length > 0 && checks.every((c) => c.ok), checks: [...checks.filter((c) => !c.ok), ...checks.filter((c) => c.ok)] };
}

function summaryOf(run: RunDocument): string {
  if (run.drain) return `lost ${run.drain.ledger.lost} of ${run.drain.ledger.total} requests, ${exitSentence(run.drain.ledger)}`;
  const m = run.measured;
  const then = m.signalHandling === 'not-checked' ? '' : `, signal handling then ${m.signalHandling}`;
  const failure = m.registerFailure ? `, ${m.registerFailure} at reload ${m.emfileAtReload}${then}` : '';
  // The growth is fitted over the reloads before EMFILE: name those, so fds ÷ reloads reads as the slope.
  const fitted = m.emfileAtReload !== null ? Math.max(0, Math.min(m.reloadsDone, m.emfileAtReload - 1)) : m.reloadsDone;
  return `${m.baselineFds} → ${m.finalFds} fds, ${fmt(m.growthPerReload)}/reload over ${fitted} reloads${failure}`;
}

/** A saved document judged again with changed thresholds; a compare's verdict follows its runs. */
export function rejudgeDocument(doc: ReproDocument, change: Partial<Expectation>): ReproDocument {
  if (doc.kind === 'run') return rejudge(doc, change);
  const runs = doc.runs.map((r) => rejudge(r, change));
  const { baseline: _dropped, ...rest } = doc;
  return { ...rest, runs, verdict: judgeCompare(runs) };
}
