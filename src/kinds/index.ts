/**
 * The measurement kinds, one row each: what a run measured picks its judge
 * and its facts. Commands judge through `judgeRun`; `repro report` judges a
 * saved document again through `rejudgeDocument` and never trusts its stored
 * verdict. Pure.
 */
import { withBaseline } from '../model/baseline.js';
import type { Check, CompareVerdict, Expectation, MeasuredRun, Measurement, ReproDocument, RunDocument, Verdict } from '../model/run-document.js';
import { drainRunSummary, judgeDrain } from './drain/judge.js';
import { drainView } from './drain/view.js';
import { judgeLedger, ledgerRunSummary } from './ledger/judge.js';
import { ledgerView } from './ledger/view.js';
import { judgeReloads } from './reloads/judge.js';
import { judgeRounds } from './rounds/judge.js';
import { fdRunSummary } from './shared/fd-judge.js';
import { roleView } from './shared/role-view.js';
import { judgeTree } from './tree/judge.js';
import { treeView } from './tree/view.js';
import { judgeTrials, trialsRunSummary } from './trials/judge.js';
import { trialsView } from './trials/view.js';
import type { KindView } from './view.js';

export type { Measurement, KindView };

/** What every kind provides to the commands and to `repro report`. */
export interface KindJudge {
  measurement: Measurement;
  /** Its one judge: the measured run against what its scenario (or command) expects. */
  judge(run: MeasuredRun, expectation: Expectation): Verdict;
  /** A run that passed, in a compare's sentence. */
  summary(run: RunDocument): string;
  /** Its sections in the views: the views ask it rather than test a run's fields. */
  view: KindView;
}

export const KINDS: Record<Measurement, KindJudge> = {
  reloads: { measurement: 'reloads', judge: judgeReloads, summary: fdRunSummary, view: roleView },
  rounds: { measurement: 'rounds', judge: judgeRounds, summary: fdRunSummary, view: roleView },
  tree: { measurement: 'tree', judge: judgeTree, summary: fdRunSummary, view: treeView },
  drain: { measurement: 'drain', judge: judgeDrain, summary: drainRunSummary, view: drainView },
  trials: { measurement: 'trials', judge: judgeTrials, summary: trialsRunSummary, view: trialsView },
  ledger: { measurement: 'ledger', judge: judgeLedger, summary: ledgerRunSummary, view: ledgerView },
};

/**
 * What a run measured: its own field, or (older documents, converted v1 ones)
 * what its fields say: a ledger or a drain expectation is a drain, a watched
 * tree or survivors (or a watch role) a tree, round events rounds, else reloads.
 */
export function measurementOf(run: MeasuredRun & { verdict?: Verdict }): Measurement {
  if (run.measurement) return run.measurement;
  if (run.drain || run.verdict?.expectation.drain) return 'drain';
  if (run.trials || run.verdict?.expectation.trials) return 'trials';
  if (run.ledger || run.verdict?.expectation.ledger) return 'ledger';
  if (run.tree || run.survivors || run.roleKind === 'watch') return 'tree';
  if (run.events.some((e) => e.event === 'round')) return 'rounds';
  return 'reloads';
}

/** The kind of a run. */
export function kindOf(run: RunDocument): KindJudge {
  return KINDS[run.measurement];
}

/** The view of a run's kind: the sections every view (src/report) shows for it. */
export function viewOf(run: RunDocument): KindView {
  return KINDS[measurementOf(run)].view;
}

/** A run with its measurement named, right after `kind` (where readers of the JSON look first). */
export function withMeasurement<R extends MeasuredRun>(run: R, measurement: Measurement = measurementOf(run)): R & { measurement: Measurement } {
  const { schemaVersion, kind, measurement: _named, ...rest } = run;
  return { schemaVersion, kind, measurement, ...rest } as unknown as R & { measurement: Measurement };
}

/** Judges a measured run with its kind's judge: the judged run document. */
export function judgeRun(run: MeasuredRun, expectation: Expectation, measurement: Measurement = measurementOf(run)): RunDocument {
  const named = withMeasurement(run, measurement);
  return { ...named, verdict: KINDS[measurement].judge(named, expectation) } as RunDocument;
}

/** The measurement of a scenario's driver. */
export function measurementOfDriver(driver: 'reload-loop' | 'rounds' | 'load-and-signal' | 'reload-under-load' | 'trials' | 'ledger' | undefined): Measurement {
  if (driver === 'trials') return 'trials';
  if (driver === 'ledger') return 'ledger';
  if (driver === 'reload-under-load') return 'tree';
  return driver === 'rounds' ? 'rounds' : driver === 'load-and-signal' ? 'drain' : 'reloads';
}

/**
 * A saved run judged again by its kind's judge, with its saved expectation
 * changed by `change` (`repro report --max-growth` moves the gate of runs that
 * should stay flat: a leak's expected rate is the scenario's, not a threshold).
 * The stored verdict is never read but for its expectation; a saved --baseline
 * check is folded in again.
 */
export function rejudge(run: RunDocument, change: Partial<Expectation> = {}): RunDocument {
  const { baseline, verdict, ...rest } = run;
  const judged = judgeRun(rest as MeasuredRun, { ...verdict.expectation, ...change }, measurementOf(run));
  return baseline ? refold(judged, baseline) : judged;
}

/** A saved baseline check folded into a fresh verdict; its pass follows its runs, not its stored flag. */
function refold<D extends ReproDocument>(doc: D, baseline: NonNullable<D['baseline']>): D {
  return withBaseline(doc, { ...baseline, pass: baseline.runs.every((r) => !r.regressed) });
}

/**
 * One sentence per run for a compare: as its role expects, or what went wrong
 * first; a planned role that never ran fails. A compare none of whose runs
 * failed by a finding, with at least one that could not tell, is inconclusive:
 * a finding in any run beats "could not tell" in another.
 */
export function judgeCompare(runs: readonly RunDocument[], roles: readonly string[] = []): CompareVerdict {
  const checks = runs.map((run): Check => {
    const failed = run.verdict.checks.find((c) => !c.ok);
    return {
      id: `run:${run.role}`,
      ok: run.verdict.pass,
      text: run.verdict.pass ? `${run.role}: ${run.verdict.expectation.shows} (${kindOf(run).summary(run)})` : `${run.role}: expected ${run.verdict.expectation.shows}, but ${failed?.text ?? 'see its run'}`,
    };
  });
  const ran = new Set(runs.map((r) => r.role));
  for (const role of roles.filter((r) => !ran.has(r))) checks.push({ id: `run:${role}`, ok: false, text: `${role}: never ran (the compare was interrupted before it), so the difference was not shown` });
  const pass = checks.length > 0 && checks.every((c) => c.ok);
  const ranAll = roles.every((r) => ran.has(r));
  const untold = !pass && ranAll && runs.every((r) => r.verdict.pass || r.verdict.inconclusive === true);
  return { pass, ...(untold ? { inconclusive: true } : {}), checks: [...checks.filter((c) => !c.ok), ...checks.filter((c) => c.ok)] };
}

/** A saved document judged again (`repro report`), every run by its kind's judge; a compare's verdict follows its runs. */
export function rejudgeDocument(doc: ReproDocument, change: Partial<Expectation> = {}): ReproDocument {
  if (doc.kind === 'run') return rejudge(doc, change);
  const runs = doc.runs.map((r) => rejudge(r, change));
  const { baseline, ...rest } = doc;
  const judged = { ...rest, runs, verdict: judgeCompare(runs, doc.roles) };
  return baseline ? refold(judged, baseline) : judged;
}

/** A loaded document with every run's measurement named (older documents carry none: derived from their fields). */
export function withMeasurements(doc: ReproDocument): ReproDocument {
  if (doc.kind === 'run') return withMeasurement(doc) as RunDocument;
  return { ...doc, runs: doc.runs.map((r) => withMeasurement(r) as RunDocument) };
}
