/**
 * `--baseline OLD.json`: the regression gate. Each run of this document is
 * matched with the run of the same scenario and role in the saved one; the
 * gate fails when the measure its verdict uses rose by more than the tolerance. Pure.
 */
import type { BaselineCheck, Check, ReproDocument, RunDocument } from './run-document.js';
import { finiteDifference, round } from './stats.js';

export function runsOf(doc: ReproDocument): RunDocument[] {
  return doc.kind === 'compare' ? doc.runs : [doc];
}

/** What a run is gated by, and so what a baseline compares: the same measure its own verdict uses. */
export type BaselineMeasure = NonNullable<BaselineCheck['runs'][number]['measure']>;

function measureOf(run: RunDocument): { measure: BaselineMeasure; value: number } {
  if (run.drain) return { measure: 'lost', value: run.drain.ledger.lost };
  if (run.survivors) return { measure: 'survivors', value: run.survivors.survivorsPerReload };
  return { measure: 'growth', value: run.measured.growthPerReload };
}

export const BASELINE_WORDS: Record<BaselineMeasure, string> = { growth: 'growth per reload', survivors: 'fds surviving per reload', lost: 'requests lost' };

/**
 * Runs that have a counterpart of the same scenario and role in `old`, compared by the measure their
 * verdict uses (growth per reload; fds surviving per reload for a watched tree; requests lost for a
 * drain); null when no run has one. A saved run of another scenario, or measured another way, is never
 * compared: the check says so and fails.
 */
export function checkBaseline(doc: ReproDocument, old: ReproDocument, file: string, tolerance: number): BaselineCheck | null {
  const key = (r: RunDocument) => `${r.scenario}\u0000${r.role}`;
  const before = new Map(runsOf(old).map((r) => [key(r), measureOf(r)]));
  const runs: BaselineCheck['runs'] = [];
  for (const run of runsOf(doc)) {
    const now = measureOf(run);
    const was = before.get(key(run));
    if (was === undefined) {
      const other = runsOf(old).find((r) => r.role === run.role);
      if (other) runs.push({ run: run.role, measure: now.measure, before: measureOf(other).value, after: now.value, change: 0, regressed: true, mismatch: `${file} holds a ${other.scenario} ${other.role} run, this is ${run.scenario}: nothing to compare` });
      continue;
    }
    if (was.measure !== now.measure) {
      runs.push({ run: run.role, measure: now.measure, before: was.value, after: now.value, change: 0, regressed: true, mismatch: `${file} measured ${BASELINE_WORDS[was.measure]}, this run ${BASELINE_WORDS[now.measure]}: nothing to compare` });
      continue;
    }
    const change = round(finiteDifference(now.value, was.value));
    runs.push({ run: run.role, measure: now.measure, before: was.value, after: now.value, change, regressed: change > tolerance });
  }
  if (runs.length === 0) return null;
  return { file, tolerance, runs, pass: runs.every((r) => !r.regressed) };
}

/** One check per compared run. */
function baselineChecks(check: BaselineCheck): Check[] {
  return check.runs.map((r) => {
    const what = BASELINE_WORDS[r.measure ?? 'growth'];
    return {
      id: `baseline:${r.run}`,
      ok: !r.regressed,
      text: r.mismatch
        ? `${r.run}: cannot compare with the baseline: ${r.mismatch}`
        : r.regressed
          ? `${r.run} ${what} rose from ${r.before} to ${r.after} (+${r.change}, tolerance ${check.tolerance}) against ${check.file}`
          : `${r.run} ${what} ${r.after} against ${r.before} in ${check.file} (change ${r.change >= 0 ? '+' : ''}${r.change}, tolerance ${check.tolerance})`,
    };
  });
}

/** The document with the check recorded and folded into its verdict: a regression fails it. */
export function withBaseline<D extends ReproDocument>(doc: D, check: BaselineCheck): D {
  const added = baselineChecks(check);
  const checks = [...added.filter((c) => !c.ok), ...doc.verdict.checks.filter((c) => !c.id.startsWith('baseline:')), ...added.filter((c) => c.ok)];
  return { ...doc, baseline: check, verdict: { ...doc.verdict, pass: doc.verdict.pass && check.pass, checks } };
}
