/**
 * `--baseline OLD.json`: the regression gate's words and its fold into a
 * verdict. Which measure each run is compared by is its kind's
 * (src/kinds/baseline.ts). Pure.
 */
import type { BaselineCheck, Check, ReproDocument, RunDocument } from './run-document.js';

export function runsOf(doc: ReproDocument): RunDocument[] {
  return doc.kind === 'compare' ? doc.runs : [doc];
}

/** What a run is gated by, and so what a baseline compares: the same measure its own verdict uses. */
export type BaselineMeasure = NonNullable<BaselineCheck['runs'][number]['measure']>;

export const BASELINE_WORDS: Record<BaselineMeasure, string> = { growth: 'growth per reload', survivors: 'fds surviving per reload', lost: 'requests lost' };

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
  // A regression is a finding: it beats a compare's "could not tell".
  const { inconclusive, ...verdict } = doc.verdict;
  const untold = inconclusive === true && (doc.kind === 'run' || check.pass);
  return { ...doc, baseline: check, verdict: { ...verdict, ...(untold ? { inconclusive } : {}), pass: doc.verdict.pass && check.pass, checks } };
}
