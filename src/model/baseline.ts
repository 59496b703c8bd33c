/**
 * `--baseline OLD.json`: the regression gate. Each run of this document is
 * matched with the run of the same role in the saved one; the gate fails
 * when growth per reload rose by more than the tolerance. Pure.
 */
import type { BaselineCheck, Check, ReproDocument, RunDocument } from './run-document.js';
import { finiteDifference, round } from './stats.js';

export function runsOf(doc: ReproDocument): RunDocument[] {
  return doc.kind === 'compare' ? doc.runs : [doc];
}

/** Runs that have a counterpart of the same role in `old`; null when none does. */
export function checkBaseline(doc: ReproDocument, old: ReproDocument, file: string, tolerance: number): BaselineCheck | null {
  const before = new Map(runsOf(old).map((r) => [r.role, r.measured.growthPerReload]));
  const runs: BaselineCheck['runs'] = [];
  for (const run of runsOf(doc)) {
    const was = before.get(run.role);
    if (was === undefined) continue;
    const now = run.measured.growthPerReload;
    const change = round(finiteDifference(now, was));
    runs.push({ run: run.role, before: was, after: now, change, regressed: change > tolerance });
  }
  if (runs.length === 0) return null;
  return { file, tolerance, runs, pass: runs.every((r) => !r.regressed) };
}

/** One check per compared run. */
function baselineChecks(check: BaselineCheck): Check[] {
  return check.runs.map((r) => ({
    id: `baseline:${r.run}`,
    ok: !r.regressed,
    text: r.regressed
      ? `${r.run} growth per reload rose from ${r.before} to ${r.after} (+${r.change}, tolerance ${check.tolerance}) against ${check.file}`
      : `${r.run} growth per reload ${r.after} against ${r.before} in ${check.file} (change ${r.change >= 0 ? '+' : ''}${r.change}, tolerance ${check.tolerance})`,
  }));
}

/** The document with the check recorded and folded into its verdict: a regression fails it. */
export function withBaseline<D extends ReproDocument>(doc: D, check: BaselineCheck): D {
  const added = baselineChecks(check);
  const checks = [...added.filter((c) => !c.ok), ...doc.verdict.checks.filter((c) => !c.id.startsWith('baseline:')), ...added.filter((c) => c.ok)];
  return { ...doc, baseline: check, verdict: { ...doc.verdict, pass: doc.verdict.pass && check.pass, checks } };
}
