/**
 * `--baseline OLD.json`: the regression gate. Each run of this document is
 * matched with the run of the same scenario and role in the saved one; the
 * gate fails when the measure its verdict uses (its kind says which) rose by
 * more than the tolerance. Pure.
 */
import { BASELINE_WORDS, runsOf } from '../model/baseline.js';
import type { BaselineCheck, ReproDocument, RunDocument } from '../model/run-document.js';
import { finiteDifference, round } from '../model/stats.js';
import { viewOf } from './index.js';

/** What a run is gated by, and so what a baseline compares: the same measure its own verdict uses. */
function measureOf(run: RunDocument) {
  return viewOf(run).baselineMeasure(run);
}

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

