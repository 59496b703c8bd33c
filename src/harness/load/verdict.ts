/**
 * Judging a graceful-drain run, after it: the checks themselves live in
 * src/model/drain.ts (the run document carries the ledger, and `repro report`
 * re-judges it); this keeps the form the bench and the driver tests use.
 */
import { type DrainCheck, type DrainExpectation as ModelDrainExpectation, type DrainRun, drainChecks } from '../../model/drain.js';

export { type DrainCheck, type DrainRun, exitSentence, killedSentence, lossSentence } from '../../model/drain.js';

/** What a run of a role must show, as data, with the line that says it. */
export interface DrainExpectation extends ModelDrainExpectation {
  /** One line: what the run should show. */
  shows: string;
}

export interface DrainVerdict {
  pass: boolean;
  headline: string;
  checks: DrainCheck[];
}

export function judgeDrain(run: DrainRun, expect: DrainExpectation): DrainVerdict {
  const checks = drainChecks(run, expect);
  const pass = checks.every((c) => c.ok);
  const failed = checks.find((c) => !c.ok);
  return { pass, headline: pass ? `ok: ${expect.shows}` : `FAIL: ${failed?.text ?? ''}`, checks };
}

/** "in 20 of 20 runs": how many of a series of verdicts passed. */
export function seriesSentence(verdicts: readonly DrainVerdict[]): string {
  return `${verdicts.filter((v) => v.pass).length} of ${verdicts.length} runs passed`;
}
