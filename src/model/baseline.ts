/**
 * `--baseline OLD.json`: the regression gate. Each run of this document is
 * matched with the run of the same pattern in the saved one; the gate fails
 * when growth per reload rose by more than the tolerance. Pure.
 */
import type { BaselineCheck, ReproDocument, RunDocument } from './run-document.js';
import { finiteDifference, round } from './stats.js';

export function runsOf(doc: ReproDocument): RunDocument[] {
  return doc.kind === 'compare' ? [doc.runs.broken, doc.runs.correct] : [doc];
}

/** Runs that have a counterpart of the same pattern in `old`; null when none does. */
export function checkBaseline(doc: ReproDocument, old: ReproDocument, file: string, tolerance: number): BaselineCheck | null {
  const before = new Map(runsOf(old).map((r) => [r.pattern, r.verdict.growthPerReload]));
  const runs: BaselineCheck['runs'] = [];
  for (const run of runsOf(doc)) {
    const was = before.get(run.pattern);
    if (was === undefined) continue;
    const now = run.verdict.growthPerReload;
    const change = round(finiteDifference(now, was));
    runs.push({ run: run.pattern, before: was, after: now, change, regressed: change > tolerance });
  }
  if (runs.length === 0) return null;
  return { file, tolerance, runs, pass: runs.every((r) => !r.regressed) };
}

/** One sentence per compared run, failed ones first (like verdict reasons). */
function baselineReasons(check: BaselineCheck): string[] {
  const lines = check.runs.map((r) =>
    r.regressed
      ? `FAIL: ${r.run} growth per reload rose from ${r.before} to ${r.after} (+${r.change}, tolerance ${check.tolerance}) against ${check.file}`
      : `ok: ${r.run} growth per reload ${r.after} against ${r.before} in ${check.file} (change ${r.change >= 0 ? '+' : ''}${r.change}, tolerance ${check.tolerance})`,
  );
  return [...lines.filter((l) => l.startsWith('FAIL')), ...lines.filter((l) => !l.startsWith('FAIL'))];
}

/** The document with the check recorded and folded into its verdict: a regression fails it. */
export function withBaseline(doc: ReproDocument, check: BaselineCheck): ReproDocument {
  const reasons = baselineReasons(check);
  const merge = (v: { pass: boolean; reasons: string[] }) => ({
    ...v,
    pass: v.pass && check.pass,
    reasons: [...reasons.filter((r) => r.startsWith('FAIL')), ...v.reasons, ...reasons.filter((r) => !r.startsWith('FAIL'))],
  });
  if (doc.kind === 'compare') return { ...doc, baseline: check, verdict: merge(doc.verdict) };
  return { ...doc, baseline: check, verdict: { ...doc.verdict, ...merge(doc.verdict) } };
}
